/** --max-active-startups bounds the startups being built: a finished pipeline frees its slot and keeps its namespace. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName, waitFor } from '../../support/cluster.ts';
import { apply, condition, startFactory, type TestFactory } from '../../support/factory.ts';
import { applyProvider, waitForPhase } from '../../support/pipeline.ts';

let factory: TestFactory;

beforeAll(async () => {
  factory = await startFactory(['--max-active-startups', '1']);
});

afterAll(async () => {
  await factory?.cleanup();
});

describe('slots', () => {
  it('admits the next Startup once the first one\'s pipeline has finished', async () => {
    const offline = uniqueName('offline');
    await applyProvider(factory, { name: offline, type: 'offline' });
    const [first, second] = [uniqueName('first'), uniqueName('second')];
    await apply([factory.manifest(first, { displayName: 'First', ai: { providers: [offline] } })]);
    await waitFor(`${first} admitted`, async () => condition(await factory.get(first), 'Admitted')?.status === 'True', 60_000);
    await apply([factory.manifest(second, { displayName: 'Second', ai: { providers: [offline] } })]);

    const waiting = await waitFor(`${second} queued`, async () => { const s = await factory.get(second); return s.status?.phase === 'Queued' && s; }, 30_000);
    expect(condition(waiting, 'Admitted')).toMatchObject({ status: 'False', reason: 'ActiveLimitReached' });
    const done = await waitForPhase(factory, first, ['Succeeded', 'Failed']);
    expect(done.status?.phase).toBe('Succeeded');
    const next = await waitForPhase(factory, second, ['Succeeded', 'Failed']);
    expect(next.status?.phase).toBe('Succeeded');
    // The first still holds its namespace and allocation: only its slot was freed.
    const kept = await factory.get(first);
    expect(kept.status?.namespace).toBe(`startup-${first}`);
    expect(condition(kept, 'Admitted')?.status).toBe('True');
    expect(Date.parse(next.status!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(done.status!.completedAt!) - 1000);
  });
});
