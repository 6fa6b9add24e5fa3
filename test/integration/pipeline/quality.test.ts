/**
 * Quality decides: a valid answer that scores below the threshold is asked of the next
 * provider too and the better answer wins, both calls billed within the budget; and
 * what each provider did is kept in its AIProvider's status, across operator restarts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUsd, tokenCostMicros } from '../../../src/api/index.ts';
import { formatUsd } from '../../../src/api/money.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { MOCK_USAGE, validOutput } from '../../support/ai-fixture/replies.ts';
import type { FixtureRequest } from '../../support/ai-fixture/server.ts';
import { uniqueName, waitFor } from '../../support/cluster.ts';
import { apply, startFactory, type TestFactory } from '../../support/factory.ts';
import { Fixtures, startMockProvider, waitForPhase, type MockProvider } from '../../support/pipeline.ts';

let factory: TestFactory;
const fixtures = new Fixtures();

beforeAll(async () => {
  factory = await startFactory([]);
});

afterAll(async () => {
  await factory?.cleanup();
  await fixtures.close();
});

/** Valid research that says next to nothing, and nothing about this startup: it scores about 0.2. */
function sloppy(req: FixtureRequest) {
  const thin = {
    summary: 'A big market with many opportunities.', marketSize: { tam: 'Large.', sam: 'Medium.', som: 'Small.', reasoning: 'Estimates.' },
    trends: [], competitors: [{ name: 'Others', positioning: 'Generic.', strengths: ['Known'], weaknesses: ['Old'] }],
    customerSegments: [], risks: [], sources: [],
  };
  return { ...validOutput(req), content: JSON.stringify(thin) };
}

const perCall = (p: MockProvider) => tokenCostMicros(MOCK_USAGE.inputTokens, parseUsd(p.input)) + tokenCostMicros(MOCK_USAGE.outputTokens, parseUsd(p.output));

describe('quality', () => {
  it('asks the next provider when an answer scores below the threshold, and keeps the better one', async () => {
    const { fixture: badFix, provider: bad } = await startMockProvider(factory, fixtures, { prefix: 'sloppy', type: 'openai', reply: sloppy, input: '0.10', output: '0.20' });
    const { fixture: goodFix, provider: good } = await startMockProvider(factory, fixtures, { prefix: 'good', type: 'anthropic', reply: validOutput, input: '3.00', output: '15.00' });
    const name = uniqueName('quality');
    await apply([factory.manifest(name, {
      displayName: 'Quality Co', industry: 'fintech', idea: 'Payouts for couriers.',
      ai: { providers: [bad.name, good.name], routing: 'Ordered' },
      pipeline: { tasks: [{ name: 'market-research', type: 'research' }] },
    })]);
    const done = await waitForPhase(factory, name, ['Succeeded', 'Failed']);
    expect(done.status?.phase, JSON.stringify(done.status?.conditions)).toBe('Succeeded');
    expect(badFix.requests).toHaveLength(1);
    expect(goodFix.requests).toHaveLength(1);
    const [task] = done.status!.tasks!;
    expect(task).toMatchObject({ name: 'market-research', provider: good.name, attempts: 1 });
    expect(task!.quality).toBeGreaterThanOrEqual(0.6);
    const stored = await factory.client.get<KubeObject & { data: Record<string, string> }>(
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: `startup-${name}`, name: 'output-market-research' });
    expect(JSON.parse(stored.data['output.json']!).competitors.length).toBeGreaterThan(1);
    // Both calls were made and both are paid for, to the micro-dollar.
    const settled = await waitFor('usage to settle', async () => {
      const s = await factory.get(name);
      return s.status?.usage?.totalCalls === 2 && s.status.usage.reservedUsd === '0.000000' && s;
    }, 30_000);
    expect(settled.status?.usage?.totalCostUsd).toBe(formatUsd(perCall(bad) + perCall(good)));

    // What each provider did is the learning engine's evidence, in the API, and it outlives the operator.
    const measured = async (n: number) => waitFor(`stats of ${n} samples`, async () => {
      const [b, g] = await Promise.all([bad, good].map((p) => stats(p.name)));
      return b?.samples === n && g?.samples === n && { bad: b, good: g };
    }, 30_000);
    const first = await measured(1);
    expect(first.bad).toMatchObject({ successRate: 1, meanCostUsd: formatUsd(perCall(bad)) });
    expect(first.bad.meanQuality).toBeLessThan(0.4);
    expect(first.good.meanQuality).toBe(task!.quality);
    await factory.stop();
    await factory.start();
    const again = uniqueName('quality');
    await apply([factory.manifest(again, {
      displayName: 'Quality Co', industry: 'fintech', idea: 'Payouts for couriers, again.',
      ai: { providers: [bad.name, good.name], routing: 'Ordered' },
      pipeline: { tasks: [{ name: 'market-research', type: 'research' }] },
    })]);
    expect((await waitForPhase(factory, again, ['Succeeded', 'Failed'])).status?.phase).toBe('Succeeded');
    // The new operator went on from the evidence the first one left, not from nothing.
    const second = await measured(2);
    expect(second.good.meanQuality).toBeCloseTo(first.good.meanQuality, 1);
  });
});

type ProviderStats = { samples: number; successRate: number; meanQuality: number; meanCostUsd: string };

async function stats(provider: string): Promise<ProviderStats | undefined> {
  const p = await factory.client.get<KubeObject & { status?: { stats?: (ProviderStats & { taskType: string })[] } }>(
    { apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider', name: provider });
  return p.status?.stats?.find((s) => s.taskType === 'research');
}
