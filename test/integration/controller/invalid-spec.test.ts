import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Startup } from '../../../src/api/index.ts';
import { kubectl, uniqueName, waitFor, waitForGone } from '../../support/cluster.ts';
import { apply, condition, isProvisioned, startFactory, type TestFactory } from '../../support/factory.ts';

let factory: TestFactory;

beforeAll(async () => {
  // One slot: a Startup that held one while stalled would keep every other Queued.
  factory = await startFactory(['--leader-elect', 'false', '--max-active-startups', '1']);
});
afterAll(async () => {
  await factory?.cleanup();
});

const describeStatus = (s: Startup) => `${s.metadata.name}: phase ${s.status?.phase}, ${(s.status?.conditions ?? []).map((c) => `${c.type}=${c.status}(${c.reason})`).join(' ')}`;

describe('a spec the API server cannot judge', () => {
  it('stalls with InvalidSpec naming the field, holds no slot, and recovers once fixed', async () => {
    const name = uniqueName('cyclic');
    const pipeline = (second: string[]) => ({
      tasks: [
        { name: 'research', type: 'research' as const, dependsOn: ['review'] },
        { name: 'review', type: 'review' as const, dependsOn: second },
      ],
    });
    // A cycle passes CEL (which cannot recurse) but not the operator's own validation.
    await apply([factory.manifest(name, { pipeline: pipeline(['research']) })]);
    await expect.poll(async () => condition(await factory.get(name), 'Stalled')?.reason, { timeout: 60_000, interval: 500 }).toBe('InvalidSpec');
    const stalled = await factory.get(name);
    expect(condition(stalled, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec', message: expect.stringMatching(/^spec\.pipeline\.tasks: .*cycle/) });
    expect(stalled.status?.namespace).toBeUndefined();

    // Applied after it, so behind it in the queue: admitted into the only slot all the same.
    const other = uniqueName('valid');
    await apply([factory.manifest(other, {})]);
    let last: Startup | undefined;
    await waitFor('the valid Startup provisioned in the only slot', async () => {
      last = await factory.get(other);
      return isProvisioned(last);
    }, 60_000).catch((err: Error) => { throw new Error(`${err.message}; ${last ? describeStatus(last) : 'no status'}`); });
    const still = await factory.get(name);
    expect(condition(still, 'Stalled')?.reason).toBe('InvalidSpec');
    expect(condition(still, 'Admitted')?.status).not.toBe('True');
    expect((await kubectl(['get', 'namespace', `startup-${name}`])).code).not.toBe(0);

    // The slot freed, the fixed spec is admitted into it.
    expect((await kubectl(['delete', 'startup', other, '--wait=false'])).code).toBe(0);
    await waitForGone(['startup', other], `${other} gone`);
    await apply([factory.manifest(name, { pipeline: pipeline([]) })]);
    await expect.poll(async () => condition(await factory.get(name), 'Provisioned')?.status, { timeout: 60_000, interval: 500 }).toBe('True');
    // Fixed: provisioned, and the pipeline moves on (to wait for a provider, as this file applies none).
    await expect.poll(async () => condition(await factory.get(name), 'Stalled')?.reason, { timeout: 30_000, interval: 500 }).toBe('NoReadyProvider');
  });
});
