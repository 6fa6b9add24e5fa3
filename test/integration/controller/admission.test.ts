import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, uniqueName, waitFor } from '../../support/cluster.ts';
import type { Startup } from '../../../src/api/index.ts';
import { bytes, cpuMillis } from '../../../src/provisioning/quantity.ts';
import { apply, condition, isProvisioned, startFactory, type TestFactory } from '../../support/factory.ts';

// Fifteen node ports for five NodePort Startups of three services each, and a capacity of
// exactly five default-sized Startups: a sixth fits neither.
const POOL = { first: 30020, last: 30034 };
let factory: TestFactory;

beforeAll(async () => {
  factory = await startFactory([
    '--max-active-startups', '5', '--node-port-range', `${POOL.first}-${POOL.last}`, '--capacity-cpu', '2500m', '--capacity-memory', '2560Mi',
  ]);
});
afterAll(async () => {
  await factory?.cleanup();
});

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
      return ready.length === 5 && queued.length === 1 && { ready, queued };
    }, 90_000);

    const ports = settled.ready.flatMap((s) => s.status?.allocation?.nodePorts ?? []);
    expect(ports).toHaveLength(15);
    expect(new Set(ports).size).toBe(15);
    for (const p of ports) expect(p >= POOL.first && p <= POOL.last).toBe(true);
    const cpu = settled.ready.reduce((n, s) => n + cpuMillis(String(s.spec.resources.cpu)), 0);
    const memory = settled.ready.reduce((n, s) => n + bytes(String(s.spec.resources.memory)), 0);
    expect(cpu).toBeLessThanOrEqual(2500);
    expect(memory).toBeLessThanOrEqual(2560 * 2 ** 20);

    const waiting = settled.queued[0]!;
    expect(condition(waiting, 'Admitted')).toMatchObject({ status: 'False', reason: 'ActiveLimitReached' });
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
