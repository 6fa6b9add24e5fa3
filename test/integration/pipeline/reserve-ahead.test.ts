/**
 * A task's first call reserved ahead: while an attempt's pod starts, the gateway reads its
 * input and puts the worst case of its first call on record as a spare, so no call of a
 * pipeline waits for a ledger write of its own, the very first included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validOutput } from '../../support/ai-fixture/replies.ts';
import { uniqueName } from '../../support/cluster.ts';
import { apply, startFactory, type TestFactory } from '../../support/factory.ts';
import { Fixtures, applyProvider, metricSum, waitForPhase } from '../../support/pipeline.ts';

let factory: TestFactory;
const fixtures = new Fixtures();

beforeAll(async () => {
  factory = await startFactory([]);
});

afterAll(async () => {
  await factory?.cleanup();
  await fixtures.close();
});

const reservations = (path: 'spare' | 'write') => metricSum(factory, 'startup_factory_budget_reservations_total', { path });

describe('reserving ahead', () => {
  it('has every call of a pipeline, its first included, go out on a reservation made before it came', async () => {
    const upstream = await fixtures.start({ apiKey: 'sk-ahead', reply: validOutput });
    const provider = uniqueName('ahead');
    await applyProvider(factory, { name: provider, type: 'openai', baseURL: `${upstream.url}/v1`, key: 'sk-ahead', input: '2.50', output: '10.00' });
    const name = uniqueName('ahead');
    // Two tasks one after the other: the second's input carries the first's output, so its worst case is the larger.
    await apply([factory.manifest(name, {
      displayName: 'Ahead', ai: { providers: [provider] },
      pipeline: { tasks: [{ name: 'market-research', type: 'research' }, { name: 'founder-analysis', type: 'analysis', dependsOn: ['market-research'] }] },
    })]);
    const done = await waitForPhase(factory, name, ['Succeeded', 'Failed'], 180_000);
    expect(done.status?.phase, JSON.stringify(done.status?.tasks)).toBe('Succeeded');
    expect(upstream.requests).toHaveLength(2);
    // Without the reservation ahead, the first call would have waited for the write that creates the ledger.
    expect({ spare: await reservations('spare'), write: await reservations('write') }).toEqual({ spare: 2, write: 0 });
  });
});
