import { connect, createServer, isIP, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
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

/**
 * A TCP proxy in front of the real API server, so a test can break the operator's
 * connections the way a network does: `reset()` drops every open connection at once,
 * `freeze()` keeps them open but silently stops forwarding (a half-dead watch),
 * `partition()` also refuses new ones.
 */
export class ApiProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket; frozen: boolean }>();
  private partitioned = false;
  connections = 0;

  async start(target: URL): Promise<KubeConfig> {
    this.server = createServer((client) => {
      this.connections++;
      if (this.partitioned) return void client.destroy();
      const upstream = connect(Number(target.port || 443), target.hostname);
      const pair = { client, upstream, frozen: false };
      this.pairs.add(pair);
      const forward = (from: Socket, to: Socket) => from.on('data', (chunk) => { if (!pair.frozen) to.write(chunk); });
      forward(client, upstream);
      forward(upstream, client);
      const close = () => { client.destroy(); upstream.destroy(); this.pairs.delete(pair); };
      client.on('close', close); upstream.on('close', close);
      client.on('error', close); upstream.on('error', close);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const port = (this.server.address() as { port: number }).port;
    const kc = new KubeConfig();
    kc.loadFromString(kubeConfig().exportConfig());
    const cluster = kc.getCurrentCluster()!;
    // Keep the TLS name of the real server so its certificate still verifies through the proxy.
    const clusters = kc.clusters.map((c) => (c.name === cluster.name ? { ...c, server: `${target.protocol}//127.0.0.1:${port}`, ...(isIP(target.hostname) ? {} : { tlsServerName: target.hostname }) } : c));
    kc.loadFromOptions({ clusters, users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
    return kc;
  }

  reset(): void {
    for (const p of this.pairs) { p.client.destroy(); p.upstream.destroy(); }
    this.pairs.clear();
  }

  freeze(): void {
    for (const p of this.pairs) p.frozen = true;
  }

  /** A network partition: open connections go silent and new ones are refused. */
  partition(): void {
    this.partitioned = true;
    this.freeze();
  }

  async stop(): Promise<void> {
    this.reset();
    await new Promise((r) => this.server?.close(r));
  }
}
