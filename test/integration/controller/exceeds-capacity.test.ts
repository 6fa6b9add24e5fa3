import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, uniqueName, waitFor } from '../../support/cluster.ts';
import type { Startup } from '../../../src/api/index.ts';
import { apply, condition, isProvisioned, startFactory, type TestFactory } from '../../support/factory.ts';

// One slot and room for four default-sized Startups: a Startup that can never fit must not
// take the slot, nor hold up the one queued behind it.
let factory: TestFactory;

beforeAll(async () => {
  factory = await startFactory(['--max-active-startups', '1', '--capacity-cpu', '2', '--capacity-memory', '4Gi'], { startupControllerOnly: true });
});
afterAll(async () => {
  await factory?.cleanup();
});

const stalled = (s: Startup) => condition(s, 'Stalled')?.status === 'True' && condition(s, 'Stalled')?.reason === 'ExceedsCapacity'
  && s.status?.observedGeneration === s.metadata.generation;

describe('a Startup larger than the factory', () => {
  const cpu = uniqueName('big-cpu');
  const memory = uniqueName('big-mem');
  const small = uniqueName('small');

  it('is Stalled with ExceedsCapacity, holds no slot and does not block the Startup behind it', async () => {
    // Ahead of the small one in the queue by priority; 1e400 is a quantity the API server accepts.
    await apply([
      factory.manifest(cpu, { priority: 10, resources: { cpu: '3' } }),
      factory.manifest(memory, { priority: 10, resources: { memory: '1e400' } }),
    ]);
    await apply([factory.manifest(small, {})]);
    const admitted = await waitFor(`${small} provisioned in the only slot`, async () => { const s = await factory.get(small); return isProvisioned(s) && s; }, 60_000);
    expect(condition(admitted, 'Admitted')?.status).toBe('True');

    const [byCpu, byMemory] = await Promise.all([cpu, memory].map((n) => waitFor(`${n} Stalled`, async () => { const s = await factory.get(n); return stalled(s) && s; }, 30_000)));
    expect(condition(byCpu!, 'Stalled')?.message).toBe("asks cpu 3, more than the factory's whole capacity of 2");
    expect(condition(byMemory!, 'Stalled')?.message).toBe("asks memory 1e400, more than the factory's whole capacity of 4Gi");
    for (const s of [byCpu!, byMemory!]) {
      expect(s.status?.phase).toBe('Queued');
      expect(condition(s, 'Admitted')).toMatchObject({ status: 'False', reason: 'ExceedsCapacity' });
      expect(condition(s, 'Reconciling')?.status).toBe('False');
      expect(condition(s, 'Ready')).toMatchObject({ status: 'False', reason: 'ExceedsCapacity' });
      expect(s.status?.allocation).toBeUndefined();
      expect((await kubectl(['get', 'namespace', `startup-${s.metadata.name}`])).code).not.toBe(0);
    }
    await waitFor('a Warning Event naming the reason', async () => {
      const { stdout } = await kubectl(['get', 'events', '-n', 'default', '--field-selector', `involvedObject.name=${cpu},type=Warning`, '-o', 'jsonpath={.items[*].reason}']);
      return stdout.includes('ExceedsCapacity');
    }, 15_000);
  });

  it('proceeds once its spec shrinks to fit', async () => {
    expect((await kubectl(['delete', 'startup', small, '--wait=false'])).code).toBe(0);
    await kubectl(['patch', 'startup', memory, '--type', 'merge', '-p', JSON.stringify({ spec: { resources: { memory: '512Mi' } } })]);
    await waitFor(`${memory} provisioned`, async () => isProvisioned(await factory.get(memory)), 60_000);
  });

  it('proceeds once the capacity grows', async () => {
    await factory.stop();
    await factory.start(['--capacity-cpu', '4', '--max-active-startups', '2']);
    const admitted = await waitFor(`${cpu} provisioned`, async () => { const s = await factory.get(cpu); return isProvisioned(s) && s; }, 60_000);
    expect(condition(admitted, 'Stalled')?.status).toBe('False');
    expect(condition(admitted, 'Admitted')?.status).toBe('True');
  });
});
