// The official SDKs against the fixture: proof that it speaks the protocols they parse.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { Agent, fetch } from 'undici';
import { zodResponseFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { AiFixture, type FixtureOptions } from './server.ts';

const KEY = 'sk-fixture';
const fixture = new AiFixture();
beforeAll(() => fixture.start());
afterAll(() => fixture.close());

/** Each test starts from a fresh record and these options, plus its own. */
function given(options: FixtureOptions = {}): void {
  fixture.reset();
  fixture.options = { apiKey: KEY, ...options };
}
beforeEach(() => given());

const openai = (options: { apiKey?: string; maxRetries?: number; baseURL?: string } = {}) =>
  new OpenAI({ apiKey: KEY, baseURL: `${fixture.url}/v1`, maxRetries: 0, ...options });
const anthropic = (options: { apiKey?: string } = {}) => new Anthropic({ apiKey: KEY, baseURL: fixture.url, maxRetries: 0, ...options });

const messages = [{ role: 'user' as const, content: 'Name a colour.' }];
const answerTool = {
  name: 'answer',
  description: 'Give the answer.',
  input_schema: { type: 'object' as const, properties: { colour: { type: 'string' } }, required: ['colour'] },
};

describe('OpenAI chat completions', () => {
  it('answers a plain call with the reply and its usage', async () => {
    given({ reply: () => ({ content: 'Blue.', inputTokens: 7, outputTokens: 2 }) });
    const completion = await openai().chat.completions.create({ model: 'gpt-test', messages });
    expect(completion).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-test',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Blue.', refusal: null }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 },
    });
    expect(fixture.requests).toMatchObject([
      { protocol: 'openai', path: '/v1/chat/completions', stream: false, index: 0, body: { model: 'gpt-test', messages } },
    ]);
    expect(fixture.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('serves chat.completions.parse with a zod response format', async () => {
    given({ reply: () => ({ content: '{"colour":"blue","sure":true}' }) });
    const Answer = z.object({ colour: z.string(), sure: z.boolean() });
    const completion = await openai().chat.completions.parse({ model: 'gpt-test', messages, response_format: zodResponseFormat(Answer, 'answer') });
    expect(completion.choices[0]?.message.parsed).toEqual({ colour: 'blue', sure: true });
    expect(fixture.requests[0]?.body.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'answer', strict: true } });
  });

  it('streams in chunks and ends with usage when include_usage is asked', async () => {
    given({ reply: () => ({ content: 'A rather long answer, in many chunks.', inputTokens: 11, outputTokens: 9 }) });
    const stream = openai().chat.completions.stream({ model: 'gpt-test', messages, stream_options: { include_usage: true } });
    let chunks = 0;
    stream.on('chunk', () => chunks++);
    const completion = await stream.finalChatCompletion();
    expect(completion.choices[0]?.message.content).toBe('A rather long answer, in many chunks.');
    expect(completion.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 9, total_tokens: 20 });
    expect(chunks).toBeGreaterThan(3);
    expect(fixture.requests[0]?.stream).toBe(true);
  });

  it('sends no usage chunk without include_usage', async () => {
    const stream = await openai().chat.completions.create({ model: 'gpt-test', messages, stream: true });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.some((chunk) => 'usage' in chunk)).toBe(false);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(JSON.stringify({ echo: 'Name a colour.' }));
  });

  it('makes the SDK wait Retry-After and retry a 429', async () => {
    given({ fault: (req) => (req.index === 0 ? { kind: 'status', status: 429, retryAfterSeconds: 0.01 } : undefined) });
    const started = Date.now();
    const completion = await openai({ maxRetries: 1 }).chat.completions.create({ model: 'gpt-test', messages });
    expect(Date.now() - started).toBeLessThan(300); // the SDK's own backoff would wait at least 375 ms
    expect(completion.choices[0]?.message.content).toContain('echo');
    expect(fixture.requests.map((req) => req.headers['x-stainless-retry-count'])).toEqual(['0', '1']);
  });

  it('rejects a wrong key with AuthenticationError', async () => {
    const call = openai({ apiKey: 'sk-wrong' }).chat.completions.create({ model: 'gpt-test', messages });
    await expect(call).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(call).rejects.toMatchObject({ status: 401, code: 'invalid_api_key', type: 'invalid_request_error' });
  });

  it('turns a reset into APIConnectionError', async () => {
    given({ fault: () => ({ kind: 'reset' }) });
    await expect(openai().chat.completions.create({ model: 'gpt-test', messages })).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
  });

  it('makes finalChatCompletion() reject when the stream is cut', async () => {
    given({ fault: () => ({ kind: 'cut-stream', afterChunks: 2 }) });
    const stream = openai().chat.completions.stream({ model: 'gpt-test', messages, stream_options: { include_usage: true } });
    await expect(stream.finalChatCompletion()).rejects.toThrow();
  });

  it('fails parse() on a malformed answer', async () => {
    given({ fault: () => ({ kind: 'malformed' }), reply: () => ({ content: '{"colour":"blue"}' }) });
    const call = openai().chat.completions.parse({ model: 'gpt-test', messages, response_format: zodResponseFormat(z.object({ colour: z.string() }), 'answer') });
    await expect(call).rejects.toThrow();
  });

  it('lets a slow answer time out, and counts it out of flight once the client gives up', async () => {
    given({ fault: () => ({ kind: 'slow', delayMs: 300 }) });
    const call = openai().chat.completions.create({ model: 'gpt-test', messages }, { timeout: 30 });
    await expect(call).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    await vi.waitFor(() => expect(fixture.inFlight()).toBe(0));
  });

  it('counts the requests in flight', async () => {
    given({ latencyMs: 50 });
    const client = openai();
    await Promise.all([1, 2, 3].map(() => client.chat.completions.create({ model: 'gpt-test', messages })));
    expect(fixture.maxInFlight).toBe(3);
    expect(fixture.inFlight()).toBe(0);
  });
});

describe('Perplexity-style chat completions', () => {
  const citations = ['https://example.com/a'];
  const search_results = [{ title: 'A', url: 'https://example.com/a' }];

  it('serves /chat/completions with the extra fields on the completion', async () => {
    given({ reply: () => ({ content: 'Per [1].', extra: { citations, search_results } }) });
    const completion = await openai({ baseURL: fixture.url }).chat.completions.create({ model: 'sonar', messages });
    expect(completion).toMatchObject({ citations, search_results });
    expect(fixture.requests[0]?.path).toBe('/chat/completions');
  });

  it('keeps the extra fields through finalChatCompletion()', async () => {
    given({ reply: () => ({ content: 'Per [1].', extra: { citations } }) });
    const stream = openai({ baseURL: fixture.url }).chat.completions.stream({ model: 'sonar', messages });
    expect(await stream.finalChatCompletion()).toMatchObject({ citations });
  });
});

describe('Anthropic messages', () => {
  const forced = { model: 'claude-test', max_tokens: 256, messages, tools: [answerTool], tool_choice: { type: 'tool' as const, name: 'answer' } };

  it('answers a forced tool with a tool_use block of the reply', async () => {
    given({ reply: () => ({ content: '{"colour":"blue"}', inputTokens: 20, outputTokens: 5 }) });
    const message = await anthropic().messages.create(forced);
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-test',
      content: [{ type: 'tool_use', id: expect.stringMatching(/^toolu_/), name: 'answer', input: { colour: 'blue' } }],
      stop_reason: 'tool_use',
      usage: { input_tokens: 20, output_tokens: 5 },
    });
    expect(fixture.requests[0]).toMatchObject({ protocol: 'anthropic', path: '/v1/messages', stream: false });
  });

  it('streams a tool_use input, with input tokens from message_start and output tokens from message_delta', async () => {
    given({ reply: () => ({ content: '{"colour":"a long shade of blue"}', inputTokens: 20, outputTokens: 12 }) });
    const message = await anthropic().messages.stream(forced).finalMessage();
    expect(message.content).toMatchObject([{ type: 'tool_use', name: 'answer', input: { colour: 'a long shade of blue' } }]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toMatchObject({ input_tokens: 20, output_tokens: 12 });
  });

  it('answers text when no tool is forced, or the forced answer is malformed', async () => {
    given({ reply: () => ({ content: 'Blue.' }) });
    const plain = await anthropic().messages.create({ model: 'claude-test', max_tokens: 256, messages });
    expect(plain).toMatchObject({ content: [{ type: 'text', text: 'Blue.' }], stop_reason: 'end_turn' });

    given({ fault: () => ({ kind: 'malformed' }), reply: () => ({ content: '{"colour":"blue"}' }) });
    const malformed = await anthropic().messages.create(forced);
    expect(malformed).toMatchObject({ content: [{ type: 'text', text: '{"colour"' }], stop_reason: 'end_turn' });
  });

  it('rejects a wrong key with AuthenticationError', async () => {
    const call = anthropic({ apiKey: 'sk-wrong' }).messages.create(forced);
    await expect(call).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    await expect(call).rejects.toMatchObject({ status: 401, error: { type: 'error', error: { type: 'authentication_error' } } });
  });
});

describe('connections', () => {
  it('counts TCP connections: one for calls that keep it alive, one each for calls that do not share one', async () => {
    const call = (dispatcher: Agent) => fetch(`${fixture.url}/v1/chat/completions`, {
      method: 'POST', dispatcher, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', messages }),
    }).then((res) => res.json());
    // One connection at most: a call sent the moment the last one's body was read can find its connection not yet released.
    const pooled = new Agent({ connections: 1 });
    const apart = [new Agent(), new Agent()];
    try {
      const before = fixture.connections;
      for (let i = 0; i < 2; i++) await call(pooled);
      expect(fixture.connections - before).toBe(1);
      for (const agent of apart) await call(agent);
      expect(fixture.connections - before).toBe(3);
      expect(fixture.requests).toHaveLength(4);
    } finally {
      await Promise.all([pooled, ...apart].map((a) => a.close()));
    }
  });
});

describe('what each response did', () => {
  it('records a whole answer with its usage, an error without any, and a cut stream as incomplete', async () => {
    given({
      reply: () => ({ content: 'Blue, as asked.', inputTokens: 7, outputTokens: 3 }),
      fault: (req) => [undefined, { kind: 'status', status: 503 } as const, { kind: 'cut-stream', afterChunks: 2 } as const][req.index],
    });
    const client = openai();
    await client.chat.completions.create({ model: 'gpt-test', messages });
    await expect(client.chat.completions.create({ model: 'gpt-test', messages })).rejects.toMatchObject({ status: 503 });
    await expect(client.chat.completions.stream({ model: 'gpt-test', messages, stream_options: { include_usage: true } }).finalChatCompletion()).rejects.toThrow();
    await vi.waitFor(() => expect(fixture.requests.every((r) => r.response)).toBe(true));
    expect(fixture.requests.map((r) => r.response)).toEqual([
      { status: 200, complete: true, usage: { inputTokens: 7, outputTokens: 3 } },
      { status: 503, complete: true },
      { status: 200, complete: false },
    ]);
    // The body as it came, byte for byte: what a caller's reservation was made from.
    expect(JSON.parse(fixture.requests[0]!.raw)).toEqual(fixture.requests[0]!.body);
  });

  it('records an answer the client gave up on as incomplete, without usage', async () => {
    given({ fault: () => ({ kind: 'slow', delayMs: 300 }), reply: () => ({ content: 'Late.', inputTokens: 1, outputTokens: 1 }) });
    await expect(openai().chat.completions.create({ model: 'gpt-test', messages }, { timeout: 30 })).rejects.toThrow();
    await vi.waitFor(() => expect(fixture.requests[0]?.response).toEqual({ status: 200, complete: false }));
  });
});

describe('an outage', () => {
  it('refuses connections while down and answers on the same URL once up', async () => {
    const url = fixture.url;
    await fixture.down();
    // A pool of its own: a connection kept alive from before would be cut, not refused.
    const fresh = new Agent();
    try {
      await expect(fetch(`${url}/v1/chat/completions`, { method: 'POST', body: '{}', dispatcher: fresh })).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    } finally {
      await fixture.up();
      await fresh.close();
    }
    expect(fixture.url).toBe(url);
    const completion = await openai().chat.completions.create({ model: 'gpt-test', messages });
    expect(completion.choices[0]?.message.content).toContain('echo');
  });
});
