import { Writable } from 'node:stream';
import { afterAll, beforeAll } from 'vitest';
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeConfig, uniqueName } from '../../support/cluster.ts';
import { KubeClient } from '../../../src/kube/client.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { Metrics } from '../../../src/observability/metrics.ts';

export const logger = createLogger({ level: process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'silent' });

/** A logger whose lines a test can read, to check what the runtime reported. */
export function capturingLogger(): { log: typeof logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  return { log: createLogger({ level: 'debug', destination: sink }), lines };
}

export function newClient(kc: KubeConfig = kubeConfig()): { client: KubeClient; metrics: Metrics } {
  const metrics = new Metrics({ defaultMetrics: false });
  return { client: new KubeClient(kc, { qps: 100, burst: 200, metrics }), metrics };
}

/**
 * A client and a fresh namespace for one test file: created before its tests, deleted
 * (without waiting) after them and after the file's own afterAll hooks.
 */
export function namespaceFixture(prefix: string): { client: KubeClient; metrics: Metrics; ns: { name: string } } {
  const { client, metrics } = newClient();
  const ns = { name: uniqueName(prefix) };
  beforeAll(async () => { await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.name } }); });
  afterAll(async () => { await client.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns.name }); });
  return { client, metrics, ns };
}

export async function eventually<T>(probe: () => T | Promise<T>, timeoutMs = 15_000, what = 'condition'): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
