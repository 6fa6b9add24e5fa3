/**
 * The learning engine's memory against a real API server: recorded calls land in
 * `AIProvider.status.stats` (one write for a burst of calls), a fresh recorder on a
 * fresh informer (a restarted operator) reads the same evidence back, and the AIProvider
 * controller's readiness writes and these never remove each other's fields.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP_VERSION, type AIProvider, type TaskType } from '../../../src/api/index.ts';
import { setupProviderController } from '../../../src/controller/provider-controller.ts';
import { KubeClient } from '../../../src/kube/client.ts';
import { systemClock } from '../../../src/lib/clock.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { Metrics } from '../../../src/observability/metrics.ts';
import { parseOperatorConfig } from '../../../src/operator/config.ts';
import { toApiStats, type Sample } from '../../../src/providers/stats.ts';
import { ProviderStatsRecorder } from '../../../src/providers/stats-store.ts';
import { Informer } from '../../../src/runtime/informer.ts';
import { Manager } from '../../../src/runtime/manager.ts';
import { kubeConfig, kubectl, uniqueName, waitFor } from '../../support/cluster.ts';

const RUN_LABEL = 'test.startupfactory.dev/run';
const run = uniqueName('stats');
const namespace = uniqueName('sf-stats');
const logger = createLogger({ level: 'silent' });
const client = new KubeClient(kubeConfig(), { qps: 100, burst: 200, metrics: new Metrics({ defaultMetrics: false }) });
const ref = (name: string) => ({ apiVersion: API_GROUP_VERSION, kind: 'AIProvider', name });
const informers: Informer<AIProvider>[] = [];
let stopController: (() => Promise<void>) | undefined;

async function providerCache(): Promise<Informer<AIProvider>> {
  const informer = new Informer<AIProvider>({ client, logger, apiVersion: API_GROUP_VERSION, kind: 'AIProvider', labelSelector: `${RUN_LABEL}=${run}` });
  informers.push(informer);
  informer.start();
  await informer.waitForSync();
  return informer;
}

function recorder(informer: Informer<AIProvider>, o: { flushMs?: number; client?: KubeClient } = {}): ProviderStatsRecorder {
  return new ProviderStatsRecorder({ client: o.client ?? client, cached: (name) => informer.get(name), clock: systemClock, logger, ...(o.flushMs ? { flushMs: o.flushMs } : {}) });
}

/** An offline AIProvider of this file's, once the controller has marked it Ready. */
async function newProvider(): Promise<string> {
  const name = uniqueName('aip-stats');
  await client.serverSideApply({ apiVersion: API_GROUP_VERSION, kind: 'AIProvider', metadata: { name, labels: { [RUN_LABEL]: run } }, spec: { type: 'offline', model: 'offline-v1' } }, { fieldManager: 'test' });
  await waitFor(`${name} Ready`, async () => (await client.get<AIProvider>(ref(name))).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  return name;
}

/** The evidence as a restarted operator would read it: the wire form of each task type's. */
const wire = (r: ProviderStatsRecorder, provider: string, types: readonly TaskType[]) =>
  types.map((t) => { const s = r.stats(provider, t); return s && toApiStats(t, s); });

const sample = (i: number): Sample => ({ success: i % 7 !== 3, quality: i % 7 === 3 ? 0 : 0.7 + (i % 5) * 0.05, latencyMs: 1_000 + 37 * i, costMicros: 1_200 + 13 * i });

beforeAll(async () => {
  // The AIProvider controller alone, watching this file's providers: the other status writer.
  const config = parseOperatorConfig(['--namespace', namespace, '--metrics-port', '0', '--dashboard-port', '0', '--bind-address', '127.0.0.1', '--leader-elect', 'false', '--log-level', 'silent'], {});
  const manager = new Manager({ config, kubeConfig: kubeConfig(), logger, metrics: new Metrics({ defaultMetrics: false }), shutdownDeadlineMs: 5_000 });
  setupProviderController(manager, manager.informer<AIProvider>({ apiVersion: API_GROUP_VERSION, kind: 'AIProvider', labelSelector: `${RUN_LABEL}=${run}` }), namespace);
  const abort = new AbortController();
  const running = manager.runUntil(abort.signal);
  stopController = async () => { abort.abort(); await running; };
});

afterAll(async () => {
  await stopController?.();
  for (const i of informers) await i.stop();
  await kubectl(['delete', 'aiproviders', '-l', `${RUN_LABEL}=${run}`, '--ignore-not-found', '--wait=false']);
});

describe('ProviderStatsRecorder', () => {
  it('writes a burst of calls in one apply, and a fresh recorder on a fresh cache reads the same evidence back', async () => {
    const name = await newProvider();
    const counted = new KubeClient(kubeConfig(), { qps: 100, burst: 200 });
    const first = recorder(await providerCache(), { flushMs: 500, client: counted });
    for (let i = 0; i < 30; i++) first.record(name, i % 3 === 0 ? 'codegen' : 'research', sample(i));
    const expected = wire(first, name, ['research', 'codegen']);
    expect(expected[0]).toMatchObject({ taskType: 'research', samples: 20 });
    expect(expected[1]).toMatchObject({ taskType: 'codegen', samples: 10 });

    const written = await waitFor('stats on the AIProvider', async () => {
      const p = await client.get<AIProvider>(ref(name));
      return p.status?.stats?.length === 2 && p;
    }, 30_000, 100);
    expect(written.status!.stats).toEqual(expected);
    expect(counted.requestCounts().mutating).toBe(1);
    // The readiness the controller wrote is still there, under its own manager; stats under ours.
    expect(written.status!.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    const managers = (written.metadata.managedFields ?? []).filter((f) => f.subresource === 'status').map((f) => f.manager).sort();
    expect(managers).toEqual(['startup-factory-providers', 'startup-factory-routing']);
    await first.stop();

    const restarted = recorder(await providerCache());
    expect(wire(restarted, name, ['research', 'codegen'])).toEqual(expected);
    expect(restarted.stats(name, 'review')).toBeUndefined();
    // It learns on from there, not from scratch.
    restarted.record(name, 'research', sample(30));
    expect(restarted.stats(name, 'research')?.samples).toBe(21);
    await restarted.stop();
    expect((await client.get<AIProvider>(ref(name))).status?.stats?.find((s) => s.taskType === 'research')?.samples).toBe(21);
  });

  it('writes what is pending when stopped, without waiting for the next flush', async () => {
    const name = await newProvider();
    const r = recorder(await providerCache(), { flushMs: 600_000 });
    r.record(name, 'review', sample(1));
    r.record(name, 'review', sample(2));
    // The flush is ten minutes away: only stop() can have written this.
    await r.stop(10_000);
    expect((await client.get<AIProvider>(ref(name))).status?.stats).toEqual([toApiStats('review', r.stats(name, 'review')!)]);
    // Stopped, it records nothing more: a successor leads now.
    r.record(name, 'review', sample(3));
    expect(r.stats(name, 'review')?.samples).toBe(2);
  });

  it('keeps the stats through the controller\'s readiness writes, and the readiness through the stats writes', async () => {
    const name = await newProvider();
    const cache = await providerCache();
    const r = recorder(cache, { flushMs: 200 });
    for (let i = 0; i < 5; i++) r.record(name, 'spec', sample(i));
    await waitFor('stats written', async () => (await client.get<AIProvider>(ref(name))).status?.stats?.[0]?.samples === 5, 30_000, 100);
    const stats = (await client.get<AIProvider>(ref(name))).status!.stats;

    // A new generation whose key is missing: the controller writes Ready=False and observedGeneration 2.
    await client.mergePatch(ref(name), { spec: { type: 'openai', model: 'gpt-4o', secretRef: { name: 'no-such-key' } } });
    const notReady = await waitFor('the controller to mark it not Ready', async () => {
      const p = await client.get<AIProvider>(ref(name));
      return p.status?.observedGeneration === 2 && p.status.conditions?.find((c) => c.type === 'Ready')?.reason === 'SecretNotFound' && p;
    }, 60_000, 200);
    expect(notReady.status?.stats).toEqual(stats);

    // And the next stats write leaves the controller's fields alone.
    await waitFor('the cache to see generation 2', async () => cache.get(name)?.status?.observedGeneration === 2, 30_000, 100);
    r.record(name, 'spec', sample(5));
    await r.stop();
    const after = await client.get<AIProvider>(ref(name));
    expect(after.status?.stats?.[0]?.samples).toBe(6);
    expect(after.status?.observedGeneration).toBe(2);
    expect(after.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
  });
});
