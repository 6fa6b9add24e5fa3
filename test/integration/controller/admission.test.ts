import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, uniqueName, waitFor } from '../../support/cluster.ts';
import type { Startup } from '../../../src/api/index.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { bytes, cpuMillis } from '../../../src/provisioning/quantity.ts';
import { apply, condition, isProvisioned, startFactory, type TestFactory } from '../../support/factory.ts';

// Fifteen node ports for five NodePort Startups of three services each, and a capacity of
// exactly five default-sized Startups (500m, 512Mi): a sixth fits neither. The slots are
// not what binds (ten), so the capacity must be what queues the sixth.
const POOL = { first: 30020, last: 30034 };
const CAPACITY = { cpuMillis: 2500, memoryBytes: 2560 * 2 ** 20 };
let factory: TestFactory;

beforeAll(async () => {
  factory = await startFactory([
    '--max-active-startups', '10', '--node-port-range', `${POOL.first}-${POOL.last}`, '--capacity-cpu', '2500m', '--capacity-memory', '2560Mi',
  ]);
});
afterAll(async () => {
  await factory?.cleanup();
});

type Quota = KubeObject & { spec: { hard: Record<string, string> } };

/** What the namespace can use, as the operator wrote it (not as the test asked for it). */
async function quotaOf(s: Startup): Promise<{ cpuMillis: number; memoryBytes: number }> {
  const quota = await factory.client.get<Quota>({ apiVersion: 'v1', kind: 'ResourceQuota', namespace: s.status!.namespace!, name: 'startup-quota' });
  const { hard } = quota.spec;
  return {
    cpuMillis: Math.max(cpuMillis(hard['requests.cpu']!), cpuMillis(hard['limits.cpu']!)),
    memoryBytes: Math.max(bytes(hard['requests.memory']!), bytes(hard['limits.memory']!)),
  };
}

async function all(names: string[]): Promise<Startup[]> {
  return Promise.all(names.map((n) => factory.get(n)));
}

describe('admission', () => {
  const names = Array.from({ length: 6 }, () => uniqueName('adm'));

  it('provisions five concurrent Startups with unique node ports within capacity, and queues the sixth', async () => {
    // All six in one apply: the operator sees them arrive together.
    await apply(names.map((n) => factory.manifest(n, { expose: 'NodePort' })));
    const settled = await waitFor('five Ready and one Queued', async () => {
      const startups = await all(names);
      const ready = startups.filter(isProvisioned);
      const queued = startups.filter((s) => s.status?.phase === 'Queued');
      // Six admitted is the failure this test exists for: it is the last error if this times out.
      if (startups.every((s) => condition(s, 'Admitted')?.status === 'True')) throw new Error('all six admitted, past the capacity');
      return ready.length === 5 && queued.length === 1 && { ready, queued };
    }, 90_000);

    const ports = settled.ready.flatMap((s) => s.status?.allocation?.nodePorts ?? []);
    expect(ports).toHaveLength(15);
    expect(new Set(ports).size).toBe(15);
    for (const p of ports) expect(p >= POOL.first && p <= POOL.last).toBe(true);
    // The quotas the operator wrote in the admitted namespaces stay within the capacity, with no room for the sixth.
    const quotas = await Promise.all(settled.ready.map(quotaOf));
    const cpu = quotas.reduce((n, q) => n + q.cpuMillis, 0);
    const memory = quotas.reduce((n, q) => n + q.memoryBytes, 0);
    expect(cpu).toBeLessThanOrEqual(CAPACITY.cpuMillis);
    expect(memory).toBeLessThanOrEqual(CAPACITY.memoryBytes);
    expect(cpu + 500 > CAPACITY.cpuMillis || memory + 512 * 2 ** 20 > CAPACITY.memoryBytes).toBe(true);

    const waiting = settled.queued[0]!;
    expect(condition(waiting, 'Admitted')).toMatchObject({
      status: 'False', reason: 'CapacityExceeded', message: 'needs cpu 500m, memory 512Mi but cpu 0m, memory 0Mi of cpu 2500m, memory 2560Mi is free',
    });
    expect(condition(waiting, 'Ready')?.status).toBe('False');
    expect(waiting.status?.allocation).toBeUndefined();
    const { code } = await kubectl(['get', 'namespace', `startup-${waiting.metadata.name}`]);
    expect(code).not.toBe(0);
  });

  it('admits the queued Startup once one is deleted, on ports no other holds', async () => {
    const startups = await all(names);
    const waiting = startups.find((s) => s.status?.phase === 'Queued')!;
    const victim = startups.find(isProvisioned)!;
    expect((await kubectl(['delete', 'startup', victim.metadata.name, '--wait=false'])).code).toBe(0);

    // Its ports may still be held by the deleted Startup's Services until the namespace is gone.
    const admitted = await waitFor('the queued Startup Ready', async () => { const s = await factory.get(waiting.metadata.name); return isProvisioned(s) && s; }, 120_000);
    expect(condition(admitted, 'Admitted')?.status).toBe('True');
    const others = (await all(names.filter((n) => n !== victim.metadata.name && n !== waiting.metadata.name))).flatMap((s) => s.status?.allocation?.nodePorts ?? []);
    const mine = admitted.status?.allocation?.nodePorts ?? [];
    expect(mine).toHaveLength(3);
    expect(mine.filter((p) => others.includes(p))).toEqual([]);
  });
});
