/**
 * Pipelines on mock OpenAI, Anthropic and Perplexity providers (a local server speaking
 * their wire formats): the official SDKs in the task Jobs, the gateway forwarding with
 * the real keys and metering what comes back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUsd, tokenCostMicros, type Startup } from '../../../src/api/index.ts';
import { formatUsd } from '../../../src/api/money.ts';
import { AiFixture, type Fault, type FixtureRequest } from '../../support/ai-fixture/server.ts';
import { MOCK_USAGE, validOutput } from '../../support/ai-fixture/replies.ts';
import { uniqueName, waitFor } from '../../support/cluster.ts';
import { apply, condition, startFactory, type TestFactory } from '../../support/factory.ts';
import { Fixtures, applyProvider, waitForPhase, type MockProvider } from '../../support/pipeline.ts';

let factory: TestFactory;
const fixtures = new Fixtures();


async function provider(name: string, type: MockProvider['type'], f: AiFixture, key: string, input: string, output: string): Promise<MockProvider> {
  const p: MockProvider = { name: uniqueName(name), type, baseURL: type === 'anthropic' || type === 'openai-compatible' ? f.url : `${f.url}/v1`, key, input, output };
  await applyProvider(factory, p);
  return p;
}

/** A seeded PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const perCall = (p: MockProvider) => tokenCostMicros(MOCK_USAGE.inputTokens, parseUsd(p.input)) + tokenCostMicros(MOCK_USAGE.outputTokens, parseUsd(p.output));

async function settled(name: string, calls: number): Promise<Startup> {
  return waitFor(`${name}'s usage to settle`, async () => {
    const s = await factory.get(name);
    return s.status?.usage?.totalCalls === calls && s.status.usage.reservedUsd === '0.000000' && s;
  }, 30_000);
}

beforeAll(async () => {
  factory = await startFactory([]);
});

afterAll(async () => {
  await factory?.cleanup();
  await fixtures.close();
});

describe('pipelines on mock providers', () => {
  it('bills OpenAI and Anthropic calls exactly, to the micro-dollar, with the real keys and structured output', async () => {
    const openaiFix = await fixtures.start({ apiKey: 'sk-openai-test', reply: validOutput });
    const anthropicFix = await fixtures.start({ apiKey: 'sk-ant-test', reply: validOutput });
    const oa = await provider('oa', 'openai', openaiFix, 'sk-openai-test', '2.50', '10.00');
    const an = await provider('an', 'anthropic', anthropicFix, 'sk-ant-test', '3.00', '15.00');
    const name = uniqueName('exact');
    await apply([factory.manifest(name, {
      displayName: 'Exact Co', industry: 'fintech', idea: 'Invoices that pay themselves.',
      ai: { providers: [oa.name, an.name] },
      pipeline: { tasks: [
        { name: 'market-research', type: 'research', provider: oa.name },
        { name: 'founder-analysis', type: 'analysis', provider: an.name },
        { name: 'mvp-spec', type: 'spec', dependsOn: ['market-research', 'founder-analysis'], provider: an.name },
      ] },
    })]);
    const done = await waitForPhase(factory, name, ['Succeeded', 'Failed']);
    expect(done.status?.phase, JSON.stringify(done.status?.conditions)).toBe('Succeeded');
    const final = await settled(name, 3);

    const expected = perCall(oa) + 2 * perCall(an);
    expect(final.status?.usage).toMatchObject({
      totalCalls: 3, totalInputTokens: 3 * MOCK_USAGE.inputTokens, totalOutputTokens: 3 * MOCK_USAGE.outputTokens,
      totalCostUsd: formatUsd(expected), costTodayUsd: formatUsd(expected),
    });
    const task = (n: string) => final.status!.tasks!.find((t) => t.name === n)!;
    expect(task('market-research')).toMatchObject({ provider: oa.name, usage: { calls: 1, costUsd: formatUsd(perCall(oa)) } });
    expect(task('mvp-spec')).toMatchObject({ provider: an.name, model: 'anthropic-mock', usage: { calls: 1, costUsd: formatUsd(perCall(an)) } });

    // What reached the providers: their own keys (never the task's token), streamed, asking for structured output.
    const [openai] = openaiFix.requests;
    expect(openai?.headers.authorization).toBe('Bearer sk-openai-test');
    expect(openai?.body).toMatchObject({ stream: true, stream_options: { include_usage: true }, response_format: { type: 'json_schema', json_schema: { name: 'research', strict: true } } });
    expect(anthropicFix.requests).toHaveLength(2);
    for (const r of anthropicFix.requests) {
      expect(r.headers['x-api-key']).toBe('sk-ant-test');
      expect(r.body).toMatchObject({ stream: true, tool_choice: { type: 'tool' } });
    }
    // The spec, on Anthropic, was given what the research on OpenAI found.
    const specCall = anthropicFix.requests.find((r) => r.body.tool_choice.name === 'submit_spec')!;
    expect(JSON.stringify(specCall.body.messages)).toContain('market-research (research)');
  });

  it('keeps Perplexity\'s citations as the research output\'s sources', async () => {
    const citations = ['https://example.org/payments-report-2026', 'https://example.org/fx-margins'];
    const pplxFix = await fixtures.start({
      apiKey: 'pplx-test',
      reply: (req: FixtureRequest) => ({ ...validOutput(req), extra: { citations, search_results: citations.map((url, i) => ({ title: `Source ${i + 1}`, url })) } }),
    });
    const pplx = await provider('pplx', 'openai-compatible', pplxFix, 'pplx-test', '3.00', '15.00');
    const name = uniqueName('cited');
    await apply([factory.manifest(name, { displayName: 'Cited', ai: { providers: [pplx.name] }, pipeline: { tasks: [{ name: 'market-research', type: 'research' }] } })]);
    expect((await waitForPhase(factory, name, ['Succeeded', 'Failed'])).status?.phase).toBe('Succeeded');
    expect(pplxFix.requests[0]?.path).toBe('/chat/completions');
    const cm = await factory.client.get<{ apiVersion: string; kind: string; metadata: object; data: Record<string, string> }>(
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: `startup-${name}`, name: 'output-market-research' });
    const sources = (JSON.parse(cm.data['output.json']!) as { sources: { title: string; url: string }[] }).sources;
    expect(sources).toEqual(expect.arrayContaining([{ title: 'Source 1', url: citations[0] }, { title: 'Source 2', url: citations[1] }]));
  });

  it('completes the whole default pipeline through 30% transient faults, each call metered once', async () => {
    const random = prng(20261201);
    const faults: Fault[] = [
      { kind: 'status', status: 429, retryAfterSeconds: 0.05 },
      { kind: 'status', status: 500 },
      { kind: 'status', status: 503 },
      { kind: 'reset' },
      { kind: 'cut-stream', afterChunks: 2 },
    ];
    const faulted = new Map<string, number>();
    const fault = (key: string) => () => {
      if (random() >= 0.3) return undefined;
      faulted.set(key, (faulted.get(key) ?? 0) + 1);
      return faults[Math.floor(random() * faults.length)];
    };
    const a = await fixtures.start({ apiKey: 'sk-flaky-a', reply: validOutput, fault: fault('a') });
    const b = await fixtures.start({ apiKey: 'sk-flaky-b', reply: validOutput, fault: fault('b') });
    const first = await provider('flaky-oa', 'openai', a, 'sk-flaky-a', '2.50', '10.00');
    const second = await provider('flaky-an', 'anthropic', b, 'sk-flaky-b', '3.00', '15.00');
    const name = uniqueName('flaky');
    await apply([factory.manifest(name, { displayName: 'Flaky Inc', industry: 'fintech', ai: { providers: [first.name, second.name] } })]);
    const done = await waitForPhase(factory, name, ['Succeeded', 'Failed'], 300_000);
    expect(done.status?.phase, JSON.stringify(done.status?.tasks?.filter((t) => t.phase !== 'Succeeded'))).toBe('Succeeded');
    expect((faulted.get('a') ?? 0) + (faulted.get('b') ?? 0)).toBeGreaterThan(0);
    const calls = a.requests.length + b.requests.length;
    const final = await settled(name, calls);
    expect(final.status?.usage?.totalCalls).toBe(calls);
    // Answered calls cost exactly their usage; a reset or cut one its reservation, which is more: never less in all.
    const answered = (f: AiFixture, key: string) => f.requests.length - (faulted.get(key) ?? 0);
    const floor = answered(a, 'a') * perCall(first) + answered(b, 'b') * perCall(second);
    expect(parseUsd(final.status!.usage!.totalCostUsd!)).toBeGreaterThanOrEqual(floor);
  });

  it('fails fast with the typed reason on a 401, without retrying it', async () => {
    const strict = await fixtures.start({ apiKey: 'sk-the-right-one', reply: validOutput });
    const wrong = await provider('wrongkey', 'openai', strict, 'sk-a-wrong-one', '2.50', '10.00');
    const name = uniqueName('unauthorized');
    await apply([factory.manifest(name, { displayName: 'No Key', ai: { providers: [wrong.name] }, pipeline: { tasks: [{ name: 'market-research', type: 'research' }] } })]);
    const failed = await waitForPhase(factory, name, ['Failed', 'Succeeded']);
    expect(failed.status?.phase).toBe('Failed');
    const task = failed.status!.tasks![0]!;
    expect(task).toMatchObject({ phase: 'Failed', attempts: 1 });
    expect(task.reason).toMatch(/^Unauthorized: /);
    expect(condition(failed, 'PipelineSucceeded')).toMatchObject({ status: 'False', reason: 'TaskFailed' });
    expect(condition(failed, 'Stalled')).toMatchObject({ status: 'True', reason: 'TaskFailed' });
    expect(strict.requests).toHaveLength(1);
  });
});
