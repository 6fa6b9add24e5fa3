/**
 * The gateway's response cache: a pipeline run again with the same prompts is answered
 * entirely from it (no request reaches the provider, nothing is billed, every task shows
 * its cached calls), a cached answer replays to the official SDKs exactly as the provider
 * sent it, streamed or not, only whole successful answers are kept, and the calls that do
 * go upstream share one kept-alive connection.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Startup, StartupSpecInput } from '../../../src/api/index.ts';
import type { AiFixture, Fault } from '../../support/ai-fixture/server.ts';
import { MOCK_USAGE, validOutput } from '../../support/ai-fixture/replies.ts';
import { uniqueName, waitFor } from '../../support/cluster.ts';
import { apply, isProvisioned, startFactory, type TestFactory } from '../../support/factory.ts';
import { Fixtures, applyProvider, metricSum, suspendedAttemptJob, waitForPhase, type MockProvider } from '../../support/pipeline.ts';

let factory: TestFactory;
const fixtures = new Fixtures();

beforeAll(async () => {
  factory = await startFactory([]);
});

afterAll(async () => {
  await factory?.cleanup();
  await fixtures.close();
});

/** A counter's value for these labels, from the operator's registry. */
const counter = (name: string, labels: Record<string, string>) => metricSum(factory, name, labels);

/** The Startup once the usage status has caught up with `done` (calls and cache hits) and nothing is in flight. */
function settled(name: string, done: (s: Startup) => boolean): Promise<Startup> {
  return waitFor(`${name}'s usage to settle`, async () => {
    const s = await factory.get(name);
    return s.status?.usage?.reservedUsd === '0.000000' && done(s) && s;
  }, 30_000);
}

describe('the response cache', () => {
  it('answers a repeated pipeline entirely from the cache: no upstream call, nothing billed, cached calls on every task', async () => {
    const upstream = await fixtures.start({ apiKey: 'sk-cache', reply: validOutput });
    const p: MockProvider = { name: uniqueName('cached'), type: 'openai', baseURL: `${upstream.url}/v1`, key: 'sk-cache', input: '2.50', output: '10.00' };
    await applyProvider(factory, p);
    // The prompts carry the startup's display name and facts, not its object name: two Startups
    // of one spec ask the very same calls. One provider pinned, so no routing choice differs.
    const spec: Partial<StartupSpecInput> = {
      displayName: 'Echo Labs', industry: 'fintech', category: 'payments', idea: 'Receipts that file themselves.',
      founder: { name: 'Ines Duarte', skills: ['accounting'] }, ai: { providers: [p.name] },
    };

    const first = uniqueName('echo-a');
    await apply([factory.manifest(first, spec)]);
    const a = await waitForPhase(factory, first, ['Succeeded', 'Failed'], 300_000);
    expect(a.status?.phase, JSON.stringify(a.status?.tasks?.filter((t) => t.phase !== 'Succeeded'))).toBe('Succeeded');
    const upstreamCalls = upstream.requests.length;
    const firstRun = await settled(first, (s) => s.status?.usage?.totalCalls === upstreamCalls);
    expect(firstRun.status?.usage?.totalCachedCalls).toBe(0);
    expect(upstreamCalls).toBeGreaterThanOrEqual(firstRun.status!.tasks!.length);
    expect(await counter('startup_factory_ai_cache_lookups_total', { provider: p.name, result: 'miss' })).toBe(upstreamCalls);

    const second = uniqueName('echo-b');
    await apply([factory.manifest(second, spec)]);
    const b = await waitForPhase(factory, second, ['Succeeded', 'Failed'], 300_000);
    expect(b.status?.phase, JSON.stringify(b.status?.tasks?.filter((t) => t.phase !== 'Succeeded'))).toBe('Succeeded');
    expect(upstream.requests).toHaveLength(upstreamCalls);
    const secondRun = await settled(second, (s) => s.status?.usage?.totalCachedCalls === upstreamCalls);
    expect(secondRun.status?.usage).toMatchObject({
      totalCalls: 0, totalCachedCalls: upstreamCalls, callsThisHour: 0, totalInputTokens: 0, totalOutputTokens: 0,
      costTodayUsd: '0.000000', totalCostUsd: '0.000000',
    });
    expect(secondRun.status?.tasks?.map((t) => t.name)).toEqual(firstRun.status?.tasks?.map((t) => t.name));
    for (const t of secondRun.status!.tasks!) {
      expect(t.usage, t.name).toMatchObject({ calls: 0, costUsd: '0.000000' });
      expect(t.usage?.cachedCalls, t.name).toBeGreaterThan(0);
    }
    // The first startup's bill stands as it was.
    expect((await factory.get(first)).status?.usage).toMatchObject({ totalCalls: upstreamCalls, totalCostUsd: firstRun.status?.usage?.totalCostUsd });
    expect(await counter('startup_factory_ai_cache_lookups_total', { provider: p.name, result: 'hit' })).toBe(upstreamCalls);
    expect(await counter('startup_factory_ai_cached_tokens_total', { provider: p.name, direction: 'output' })).toBe(upstreamCalls * MOCK_USAGE.outputTokens);
    expect(await counter('startup_factory_ai_calls_total', { provider: p.name })).toBe(upstreamCalls);
  });

  describe('driven through the gateway with the Anthropic SDK', () => {
    let upstream: AiFixture;
    let provider: MockProvider;
    let client: Anthropic;
    /** Another attempt's: the cache answers an attempt only what it has not had yet. */
    let other: Anthropic;
    let name: string;
    let fault: Fault | undefined;

    beforeAll(async () => {
      upstream = await fixtures.start({ apiKey: 'sk-ant-cache', reply: () => ({ content: 'Blue.', inputTokens: 12, outputTokens: 3 }), fault: () => fault });
      provider = { name: uniqueName('cached-an'), type: 'anthropic', baseURL: upstream.url, key: 'sk-ant-cache', input: '3.00', output: '15.00' };
      await applyProvider(factory, provider);
      name = uniqueName('direct');
      // Suspended: the pipeline starts nothing, the test calls the gateway itself with an attempt's token.
      await apply([factory.manifest(name, {
        displayName: 'Direct', suspend: true, ai: { providers: [provider.name] },
        pipeline: { tasks: [{ name: 'market-research', type: 'research' }, { name: 'founder-analysis', type: 'analysis' }] },
      })]);
      const startup = await waitFor('provisioned', async () => { const s = await factory.get(name); return isProvisioned(s) && s; }, 60_000);
      const sdk = async (task: string) => new Anthropic({
        apiKey: await factory.operator.keyring!.mint(await suspendedAttemptJob(factory, startup, task)),
        baseURL: `${factory.operator.gateway!.url()}/providers/${provider.name}`, maxRetries: 0,
      });
      [client, other] = await Promise.all([sdk('market-research'), sdk('founder-analysis')]);
    });

    const ask = (content: string, extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}) =>
      ({ model: 'anthropic-mock', max_tokens: 64, messages: [{ role: 'user' as const, content }], ...extra });

    it('replays a cached answer exactly, streamed or not, and a differing parameter is a miss', async () => {
      const before = upstream.requests.length;
      const plain = await client.messages.create(ask('Name a colour.'));
      expect(await other.messages.create(ask('Name a colour.'))).toEqual(plain);
      expect(upstream.requests.length - before).toBe(1);

      const streamed = await client.messages.stream(ask('Name a colour.')).finalMessage();
      const replayed = other.messages.stream(ask('Name a colour.'));
      let events = 0;
      replayed.on('streamEvent', () => events++);
      expect(await replayed.finalMessage()).toEqual(streamed);
      expect(events).toBeGreaterThan(3);
      expect(streamed.id).not.toBe(plain.id);
      expect(upstream.requests.length - before).toBe(2);

      await client.messages.create(ask('Name a colour.', { stop_sequences: ['\n\n'] }));
      await client.messages.create(ask('Name a colour.', { max_tokens: 65 }));
      expect(upstream.requests.length - before).toBe(4);
      const usage = await settled(name, (s) => s.status?.usage?.totalCachedCalls === 2 && s.status.usage.totalCalls === 4);
      expect(usage.status?.usage).toMatchObject({ callsThisHour: 4, totalInputTokens: 4 * 12, totalOutputTokens: 4 * 3 });
    });

    it('sends upstream a call the attempt already had the answer to: it is asking again', async () => {
      const before = upstream.requests.length;
      const first = await client.messages.create(ask('Name a shape.'));
      // The runner asks again, word for word, when an answer does not validate and the model repeated itself.
      const again = await client.messages.create(ask('Name a shape.'));
      expect(again.id).not.toBe(first.id);
      expect(upstream.requests.length - before).toBe(2);
      // What the upstream answered the second time is what the cache holds now, for another attempt.
      expect(await other.messages.create(ask('Name a shape.'))).toEqual(again);
      expect(upstream.requests.length - before).toBe(2);
    });

    it('keeps no error and no cut stream, and sends calls that miss over one kept-alive connection', async () => {
      fault = { kind: 'status', status: 529 };
      await expect(client.messages.create(ask('Name a fruit.'))).rejects.toMatchObject({ status: 529 });
      fault = { kind: 'cut-stream', afterChunks: 3 };
      await expect(client.messages.stream(ask('Name a fruit.')).finalMessage()).rejects.toThrow();
      fault = undefined;
      const before = { requests: upstream.requests.length, connections: upstream.connections };
      // The same two calls again: neither the error nor the cut stream was kept, so both go upstream.
      expect((await client.messages.create(ask('Name a fruit.'))).content).toEqual([{ type: 'text', text: 'Blue.' }]);
      expect((await client.messages.stream(ask('Name a fruit.')).finalMessage()).content).toEqual([{ type: 'text', text: 'Blue.' }]);
      expect(upstream.requests.length - before.requests).toBe(2);
      // The cut stream's connection was destroyed; both calls after it went out on one new one.
      expect(upstream.connections - before.connections).toBe(1);
    });
  });
});
