/**
 * A leader stepping down gracefully (a rolling upgrade) hands over only once its gateway
 * has stopped. The task runners' SDKs keep their connections alive, and a server that is
 * closing keeps a kept-alive connection open after its answer (and even serves new calls
 * on it): the stop then lasted until its deadline whatever was in flight, and the Lease
 * stayed with a leader that no longer reconciled.
 */
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { uniqueName, waitFor } from '../../support/cluster.ts';
import { apply, isProvisioned, startFactory, type TestFactory } from '../../support/factory.ts';
import { Fixtures, startMockProvider, suspendedAttemptJob } from '../../support/pipeline.ts';

let factory: TestFactory | undefined;
const fixtures = new Fixtures();

afterAll(async () => {
  await factory?.cleanup();
  await fixtures.close();
});

describe('the gateway stopping', () => {
  it('answers the call in flight, lets its kept-alive connection go with the answer and stops then, not at its deadline', async () => {
    // The test factory's operator stops within 5 s (its shutdown deadline).
    factory = await startFactory(['--leader-elect=false']);
    const { fixture: upstream, provider } = await startMockProvider(factory, fixtures, {
      prefix: 'drain', type: 'openai', latencyMs: 1000, reply: () => ({ content: 'ok', inputTokens: 10, outputTokens: 10 }),
    });
    const name = uniqueName('drain');
    await apply([factory.manifest(name, {
      displayName: 'Drain', suspend: true, ai: { providers: [provider.name] }, pipeline: { tasks: [{ name: 'market-research', type: 'research' }] },
    })]);
    const startup = await waitFor('provisioned', async () => { const s = await factory!.get(name); return isProvisioned(s) && s; }, 60_000);
    const token = await factory.operator.keyring!.mint(await suspendedAttemptJob(factory, startup, 'market-research'));
    // As a task runner calls: the SDK, its connections kept alive.
    const client = new OpenAI({ apiKey: token, baseURL: `${factory.operator.gateway!.url()}/providers/${provider.name}/v1`, maxRetries: 0 });
    const ask = (content: string) => client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content }], max_tokens: 10 });
    await ask('first');
    const inFlight = ask('second');
    await waitFor('the second call at the provider', async () => upstream.inFlight() === 1, 10_000, 10);
    const stopping = Date.now();
    await factory.stop();
    const stoppedMs = Date.now() - stopping;
    expect((await inFlight).choices[0]?.message.content).toBe('ok');
    expect(stoppedMs, 'the stop waited for its deadline').toBeLessThan(4000);
  });
});
