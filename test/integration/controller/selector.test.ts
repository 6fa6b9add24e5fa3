/**
 * --startup-selector shards one cluster: two operators with different selectors (each a
 * test factory, selecting its own run label), each provisioning only its own Startups,
 * counting only its own for admission, and judging only its own AIProviders.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Startup } from '../../../src/api/index.ts';
import { kubectl, uniqueName, waitFor } from '../../support/cluster.ts';
import { apply, condition, isProvisioned, RUN_LABEL, startFactory, type TestFactory } from '../../support/factory.ts';

// Disjoint node-port pools (as shards need): a Startup's ports say which operator provisioned it.
const POOLS = { a: { first: 31710, last: 31712 }, b: { first: 31713, last: 31715 } };
let a: TestFactory;
let b: TestFactory;

beforeAll(async () => {
  // One slot each: an operator that counted the other's Startups (or the unclaimed one) for admission would queue its own.
  const flags = (pool: { first: number; last: number }) => ['--leader-elect', 'false', '--max-active-startups', '1', '--node-port-range', `${pool.first}-${pool.last}`];
  [a, b] = await Promise.all([startFactory(flags(POOLS.a)), startFactory(flags(POOLS.b))]);
});
afterAll(async () => {
  await Promise.all([a?.cleanup(), b?.cleanup()]);
});

const inPool = (s: Startup, pool: { first: number; last: number }) => (s.status?.allocation?.nodePorts ?? []).every((p) => p >= pool.first && p <= pool.last);

describe('two operators with different --startup-selector', () => {
  it('each provisions only its own Startups; one no selector matches is left alone, its AIProvider too', async () => {
    const mine = { a: uniqueName('shard-a'), b: uniqueName('shard-b') };
    const nobodys = uniqueName('shard-none');
    const unclaimedRun = uniqueName('run-none');
    const unclaimedProvider = uniqueName('offline-none');
    // The unclaimed ones first: an operator ignoring its selector would reach them no later than its own.
    await apply([
      stringify({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider', metadata: { name: unclaimedProvider, labels: { [RUN_LABEL]: unclaimedRun } }, spec: { type: 'offline', model: 'offline-v1' } }),
      stringify({
        apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', metadata: { name: nobodys, labels: { [RUN_LABEL]: unclaimedRun } },
        spec: { displayName: nobodys, template: a.template, expose: 'NodePort' },
      }),
      a.manifest(mine.a, { expose: 'NodePort' }),
      b.manifest(mine.b, { expose: 'NodePort' }),
    ]);
    try {
      const [sa, sb] = await Promise.all([
        waitFor(`${mine.a} provisioned`, async () => { const s = await a.get(mine.a); return isProvisioned(s) && s; }, 90_000),
        waitFor(`${mine.b} provisioned`, async () => { const s = await b.get(mine.b); return isProvisioned(s) && s; }, 90_000),
      ]);
      expect(sa.status?.allocation?.nodePorts).toHaveLength(3);
      expect(inPool(sa, POOLS.a), JSON.stringify(sa.status?.allocation)).toBe(true);
      expect(sb.status?.allocation?.nodePorts).toHaveLength(3);
      expect(inPool(sb, POOLS.b), JSON.stringify(sb.status?.allocation)).toBe(true);
      for (const s of [sa, sb]) expect(condition(s, 'Admitted')?.status).toBe('True');

      // Both operators have listed every Startup and reconciled theirs: the unclaimed one has no status, no namespace.
      const unclaimed = await a.get(nobodys);
      expect(unclaimed.status ?? {}).toEqual({});
      expect((await kubectl(['get', 'namespace', `startup-${nobodys}`])).code).not.toBe(0);
      const provider = JSON.parse((await kubectl(['get', 'aiprovider', unclaimedProvider, '-o', 'json'])).stdout) as { status?: unknown };
      expect(provider.status ?? {}).toEqual({});
    } finally {
      await kubectl(['delete', 'startup', nobodys, '--ignore-not-found', '--wait=false']);
      await kubectl(['delete', 'aiprovider', unclaimedProvider, '--ignore-not-found', '--wait=false']);
    }
  });
});
