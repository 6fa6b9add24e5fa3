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
import { MAX_SPARES, SPARE_HEADROOM, SPARE_PREFIX } from '../../../src/gateway/ledger.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { kubeConfig, kubectl, uniqueName, waitFor } from '../../support/cluster.ts';

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
    const taken: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await crashed.reserve(startup, limits, request(`open-${i}`, 1000, 'crashed'));
      if (!r.ok) throw new Error(r.refusal.message);
      taken.push(r.id);
    }
    // It dies with five calls in flight, and the spares it made ahead (a refill may still be
    // landing as the successor comes): nothing settles them.
    const successor = store('successor');
    expect(Object.keys((await successor.snapshot(startup)).open)).toEqual(expect.arrayContaining(taken));
    const after = await successor.reserve(startup, limits, request('after-takeover', 1000, 'successor'));
    expect(after.ok).toBe(true);
    const state = await successor.snapshot(startup);
    expect(Object.keys(state.open).filter((id) => !id.startsWith(SPARE_PREFIX))).toEqual(['after-takeover']);
    expect(Object.values(state.open).every((r) => r.holder === 'successor')).toBe(true);
    // Each of the predecessor's reservations charged in full, spares too: one may have carried a call whose settlement never landed.
    expect(state.totals.calls).toBeGreaterThanOrEqual(5);
    expect(state.totals.calls).toBeLessThanOrEqual(5 + MAX_SPARES);
    // Each at what it held: a call's own 1000, a spare (taken or not) its headroom over that.
    expect(state.costMicros).toBe(state.totals.costMicros);
    expect(state.costMicros).toBeGreaterThanOrEqual(state.totals.calls * 1000);
    expect(state.costMicros).toBeLessThanOrEqual(state.totals.calls * 1000 * SPARE_HEADROOM);
    // The old writer settling a call afterwards changes nothing: its reservation was already charged.
    crashed.settle(startup, taken[0]!, { kind: 'usage', inputTokens: 1, outputTokens: 1, costMicros: 1 });
    await crashed.stop(5_000);
    expect((await store('observer').snapshot(startup)).totals).toEqual(state.totals);
  });

  it('writes once per call at most, the settlement riding with the next reservation, and most calls take a spare', async () => {
    const startup = await newStartup();
    const counted = new KubeClient(kubeConfig(), { qps: 200, burst: 400 });
    const e = store('replica-e', counted);
    await e.snapshot(startup);
    const before = counted.requestCounts().mutating;
    let spared = 0;
    for (let i = 0; i < 20; i++) {
      const r = await e.reserve(startup, { ...limits, costPerDayMicros: 100_000_000 }, request(`seq-${i}`, 100, 'replica-e'));
      if (!r.ok) throw new Error(r.refusal.message);
      // A call after the first mostly takes a spare: settled under the spare's id.
      e.settle(startup, r.id, { kind: 'usage', inputTokens: 10, outputTokens: 10, costMicros: 10 }, 'market-research');
      if (r.id.startsWith(SPARE_PREFIX)) spared++;
    }
    // Made ahead with the write before: such a call waited for no write of its own.
    expect(spared).toBeGreaterThanOrEqual(10);
    await e.stop(5_000);
    const writes = counted.requestCounts().mutating - before;
    // One write per reservation, the first creating the ledger, and one for the last settlement.
    expect(writes).toBeLessThanOrEqual(21);
    const final = await store('replica-f').snapshot(startup);
    // The spares nobody took are given back on stop, not left for a successor to charge.
    expect(Object.keys(final.open)).toEqual([]);
    expect(final.totals).toMatchObject({ calls: 20, costMicros: 200 });
    expect(final.tasks['market-research']).toMatchObject({ calls: 20, costMicros: 200 });
  });

  it('gives a Startup\'s spares back at the sweep once no more of its calls are coming, and keeps them while they are', async () => {
    const startup = await newStartup();
    const g = store('replica-g');
    const r = await g.reserve(startup, limits, request('last-call', 100, 'replica-g'));
    if (!r.ok) throw new Error(r.refusal.message);
    g.settle(startup, r.id, { kind: 'usage', inputTokens: 1, outputTokens: 1, costMicros: 10 });
    // Its own view, which follows its writes: another store loading the ledger would charge them as orphans.
    const spares = async () => Object.keys((await g.snapshot(startup)).open).filter((id) => id.startsWith(SPARE_PREFIX));
    await waitFor('the spares on record', async () => (await spares()).length > 0, 10_000, 100);
    // Its pipeline still running: fresh spares stay for the next call.
    g.sweep(() => true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await spares()).length).toBeGreaterThan(0);
    // Over: every one goes, long before it would have been idle.
    g.sweep(() => false);
    await waitFor('the spares released', async () => (await spares()).length === 0, 10_000, 100);
    await g.stop(5_000);
    // On record as released, not charged: a successor finds nothing to charge.
    const final = await store('observer-g').snapshot(startup);
    expect(Object.keys(final.open)).toEqual([]);
    expect(final.totals).toMatchObject({ calls: 1, costMicros: 10 });
  });

  it('carries a call expected ahead on a spare, even one that comes while that spare is still being written', async () => {
    const startup = await newStartup();
    const counted = new KubeClient(kubeConfig(), { qps: 200, burst: 400 });
    const x = store('replica-x', counted);
    await x.snapshot(startup);
    const before = counted.requestCounts().mutating;
    await x.expect(startup, limits, request('expected', 1000, 'replica-x'));
    // At once: the write making the spare is still in flight, and the call waits for it, not for one of its own.
    const r = await x.reserve(startup, limits, request('first-call', 900, 'replica-x'));
    expect(r.ok && r.id.startsWith(SPARE_PREFIX)).toBe(true);
    x.settle(startup, r.ok ? r.id : '', { kind: 'usage', inputTokens: 1, outputTokens: 1, costMicros: 5 });
    await x.stop(5_000);
    // The spares' write, then the settlement with the spares given back: no write for the call itself.
    expect(counted.requestCounts().mutating - before).toBeLessThanOrEqual(3);
    const final = await store('observer-x').snapshot(startup);
    expect(Object.keys(final.open)).toEqual([]);
    expect(final.totals).toMatchObject({ calls: 1, costMicros: 5 });
  });

  it('counts cache hits on a spent budget, against no window, and keeps them', async () => {
    const startup = await newStartup();
    const h = store('replica-h');
    const tight = { callsPerHour: 1, costPerDayMicros: 10_000 };
    const only = await h.reserve(startup, tight, request('only', 100, 'replica-h'));
    expect(only.ok).toBe(true);
    h.settle(startup, only.ok ? only.id : '', { kind: 'usage', inputTokens: 10, outputTokens: 10, costMicros: 100 });
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
