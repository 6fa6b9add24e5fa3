/**
 * The ledger store against a real API server: two writers (replicas in a failover) on one
 * ledger never spend more than the budget together, a successor charges what its
 * predecessor left in flight, and a call's settlement shares the next call's write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/kube/client.ts';
import { KubeClient } from '../../../src/kube/client.ts';
import { systemClock } from '../../../src/lib/clock.ts';
import { LedgerStore } from '../../../src/gateway/ledger-store.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { kubeConfig, kubectl, uniqueName } from '../../support/cluster.ts';

const namespace = uniqueName('sf-ledger');
const client = new KubeClient(kubeConfig(), { qps: 200, burst: 400 });
const logger = createLogger({ level: 'silent' });
const limits = { callsPerHour: 1000, costPerDayMicros: 10_000 };
const owners: string[] = [];

const store = (holder: string, c = client) => new LedgerStore({ client: c, namespace, holder, clock: systemClock, logger, onChange: () => undefined });
const request = (id: string, costMicros: number, holder: string) => ({ id, task: 'market-research', holder, costMicros, deadline: Date.now() + 600_000 });

/** A real owner: the ledger ConfigMap is owned by its Startup, and garbage collection removes what has none. */
async function newStartup(): Promise<{ name: string; uid: string }> {
  const owner = await client.create<KubeObject>({
    apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', metadata: { name: uniqueName('ledger') },
    spec: { displayName: 'Ledger', template: 'reactnext', suspend: true },
  });
  owners.push(owner.metadata.name!);
  return { name: owner.metadata.name!, uid: owner.metadata.uid! };
}

beforeAll(async () => {
  expect((await kubectl(['create', 'namespace', namespace])).code).toBe(0);
});

afterAll(async () => {
  if (owners.length > 0) await kubectl(['delete', 'startup', ...owners, '--ignore-not-found', '--wait=false']);
  await kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']);
});

describe('LedgerStore', () => {
  it('lets two writers together admit no more than the budget, however the calls interleave', async () => {
    const startup = await newStartup();
    const a = store('replica-a');
    const b = store('replica-b');
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).reserve(startup, limits, request(`race-${i}`, 1000, i % 2 === 0 ? 'replica-a' : 'replica-b'))));
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    const refused = results.find((r) => !r.ok);
    expect(refused && !refused.ok && refused.refusal).toMatchObject({ kind: 'cost', limit: 10_000 });
  });

  it('has a successor charge in full what its predecessor left in flight, and bill nothing twice', async () => {
    const startup = await newStartup();
    const crashed = store('crashed');
    for (let i = 0; i < 5; i++) expect((await crashed.reserve(startup, limits, request(`open-${i}`, 1000, 'crashed'))).ok).toBe(true);
    // It dies with five calls in flight: nothing settles them.
    const successor = store('successor');
    expect(Object.keys((await successor.snapshot(startup)).open)).toHaveLength(5);
    expect((await successor.reserve(startup, limits, request('after-takeover', 1000, 'successor'))).ok).toBe(true);
    const after = await successor.snapshot(startup);
    expect(Object.keys(after.open)).toEqual(['after-takeover']);
    expect(after).toMatchObject({ costMicros: 5000, totals: { calls: 5, costMicros: 5000 } });
    // The old writer settling a call afterwards changes nothing: its reservation was already charged.
    crashed.settle(startup, 'open-0', { kind: 'usage', inputTokens: 1, outputTokens: 1, costMicros: 1 });
    await crashed.stop(5_000);
    expect((await store('observer').snapshot(startup)).totals).toMatchObject({ calls: 5, costMicros: 5000 });
  });

  it('writes once per call, the settlement riding with the next reservation', async () => {
    const startup = await newStartup();
    const counted = new KubeClient(kubeConfig(), { qps: 200, burst: 400 });
    const e = store('replica-e', counted);
    await e.snapshot(startup);
    const before = counted.requestCounts().mutating;
    for (let i = 0; i < 20; i++) {
      const r = await e.reserve(startup, { ...limits, costPerDayMicros: 100_000_000 }, request(`seq-${i}`, 100, 'replica-e'));
      expect(r.ok).toBe(true);
      e.settle(startup, `seq-${i}`, { kind: 'usage', inputTokens: 10, outputTokens: 10, costMicros: 10 });
    }
    await e.stop(5_000);
    const writes = counted.requestCounts().mutating - before;
    // One write per reservation, the first creating the ledger, and one for the last settlement.
    expect(writes).toBeLessThanOrEqual(21);
    const final = await store('replica-f').snapshot(startup);
    expect(Object.keys(final.open)).toEqual([]);
    expect(final.totals).toMatchObject({ calls: 20, costMicros: 200 });
  });

  it('counts cache hits on a spent budget, against no window, and keeps them', async () => {
    const startup = await newStartup();
    const h = store('replica-h');
    const tight = { callsPerHour: 1, costPerDayMicros: 10_000 };
    expect((await h.reserve(startup, tight, request('only', 100, 'replica-h'))).ok).toBe(true);
    h.settle(startup, 'only', { kind: 'usage', inputTokens: 10, outputTokens: 10, costMicros: 100 });
    expect((await h.reserve(startup, tight, request('one-too-many', 100, 'replica-h'))).ok).toBe(false);
    h.cacheHit(startup, 'market-research');
    h.cacheHit(startup, 'mvp-spec');
    await h.stop(5_000);
    const stored = await store('observer-h').snapshot(startup);
    expect(stored.totals).toEqual({ calls: 1, cachedCalls: 2, inputTokens: 10, outputTokens: 10, costMicros: 100 });
    expect(stored.tasks['mvp-spec']).toEqual({ calls: 0, cachedCalls: 1, inputTokens: 0, outputTokens: 0, costMicros: 0 });
    expect(stored).toMatchObject({ calls: 1, costMicros: 100, exhausted: { kind: 'calls' } });
  });
});
