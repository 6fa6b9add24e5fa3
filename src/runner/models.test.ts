// askModel against a local server speaking the providers' wire formats, as the gateway relays them.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AiFixture, type FixtureOptions } from '../../test/support/ai-fixture/server.ts';
import { validOutput } from '../../test/support/ai-fixture/replies.ts';
import type { ProviderOffer } from '../protocol/task.ts';
import { askModel } from './models.ts';

const KEY = 'sk-runner';
const fixture = new AiFixture();
beforeAll(() => fixture.start());
afterAll(() => fixture.close());
function given(options: FixtureOptions): void {
  fixture.reset();
  fixture.options = { apiKey: KEY, reply: validOutput, ...options };
}
beforeEach(() => given({}));

const prompt = { system: 'You are a market researcher.', context: '', user: 'Research the market of Acme Pay.' };
const call = { token: KEY, type: 'research' as const, maxOutputTokens: 512, timeoutMs: 5_000 };
const offers: Record<'openai' | 'anthropic', ProviderOffer> = {
  openai: { name: 'oa', type: 'openai', model: 'gpt-test', format: 'openai', basePath: '/v1' },
  anthropic: { name: 'an', type: 'anthropic', model: 'claude-test', format: 'anthropic', basePath: '' },
};
const ask = (format: 'openai' | 'anthropic') => askModel(offers[format], prompt, { ...call, gatewayUrl: fixture.url });

describe.each(['openai', 'anthropic'] as const)('askModel (%s format)', (format) => {
  it('returns a valid answer\'s JSON text', async () => {
    const answer = await ask(format);
    expect(JSON.parse(answer.text)).toMatchObject({ summary: expect.any(String), competitors: expect.any(Array) });
    expect(fixture.requests[0]?.stream).toBe(true);
  });

  it('returns an answer that is not JSON as its text, for the runner to ask again with what was wrong (not an error to retry as is)', async () => {
    given({ fault: () => ({ kind: 'malformed' }) });
    const answer = await ask(format);
    expect(answer.text.length).toBeGreaterThan(0);
    expect(() => JSON.parse(answer.text)).toThrow(SyntaxError);
  });

  it('rejects when the stream is cut, so the call is made again', async () => {
    given({ fault: () => ({ kind: 'cut-stream', afterChunks: 2 }) });
    await expect(ask(format)).rejects.toThrow();
  });
});

describe('askModel (OpenAI format)', () => {
  it('keeps the citations an OpenAI-compatible provider sends with its answer', async () => {
    given({ reply: (req) => ({ ...validOutput(req), extra: { search_results: [{ title: 'A report', url: 'https://example.org/a' }] } }) });
    const answer = await askModel({ ...offers.openai, type: 'openai-compatible', basePath: '' }, prompt, { ...call, gatewayUrl: fixture.url });
    expect(answer.citations).toEqual([{ title: 'A report', url: 'https://example.org/a' }]);
    expect(answer.model).toBe('gpt-test');
  });
});
