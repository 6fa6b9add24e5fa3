import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../support/cluster.ts';
import { apply, condition, startFactory, type TestFactory } from '../../support/factory.ts';

let factory: TestFactory;

beforeAll(async () => {
  factory = await startFactory(['--leader-elect', 'false']);
});
afterAll(async () => {
  await factory?.cleanup();
});

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

    await apply([factory.manifest(name, { pipeline: pipeline([]) })]);
    await expect.poll(async () => condition(await factory.get(name), 'Provisioned')?.status, { timeout: 60_000, interval: 500 }).toBe('True');
    // Fixed: provisioned, and the pipeline moves on (to wait for a provider, as this file applies none).
    await expect.poll(async () => condition(await factory.get(name), 'Stalled')?.reason, { timeout: 30_000, interval: 500 }).toBe('NoReadyProvider');
  });
});
