import { describe, expect, it } from 'vitest';
import { parseUsd } from '../api/money.ts';
import { BadCallError, DEFAULT_MAX_OUTPUT_TOKENS, StreamMeter, costMicros, prepareCall, usageFromBody, worstCaseMicros } from './metering.ts';

const prices = { inputMicrosPerMillion: parseUsd('2.50'), outputMicrosPerMillion: parseUsd('10.00') };
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const sse = (events: [string | undefined, unknown][]) => events.map(([e, d]) => `${e ? `event: ${e}\n` : ''}data: ${typeof d === 'string' ? d : JSON.stringify(d)}\n\n`).join('');

describe('prepareCall and the worst case', () => {
  it('bounds input by bytes and output by max_tokens times n', () => {
    const raw = json({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 100, n: 2 });
    const call = prepareCall('openai', raw, { maxTokensField: 'max_completion_tokens' });
    expect(call).toMatchObject({ maxInputTokens: raw.byteLength, maxOutputTokens: 200, stream: false });
    expect(worstCaseMicros(call, prices)).toBe(Math.ceil(raw.byteLength * 2.5) + 2000);
  });

  it('sets a bound when none is given, in the field the provider understands, and asks streams for usage', () => {
    const call = prepareCall('openai', json({ model: 'x', messages: [], stream: true }), { maxTokensField: 'max_tokens' });
    expect(call.body).toMatchObject({ max_tokens: DEFAULT_MAX_OUTPUT_TOKENS, stream_options: { include_usage: true } });
    expect(call.maxOutputTokens).toBe(DEFAULT_MAX_OUTPUT_TOKENS);
  });

  it('requires max_tokens on Anthropic calls and reserves cache writes at twice the input price', () => {
    expect(() => prepareCall('anthropic', json({ model: 'c', messages: [] }), { maxTokensField: 'max_tokens' })).toThrow(BadCallError);
    const raw = json({ model: 'c', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'text', text: 'x', cache_control: { type: 'ephemeral' } }] }] });
    const call = prepareCall('anthropic', raw, { maxTokensField: 'max_tokens' });
    expect(worstCaseMicros(call, prices)).toBe(2 * Math.ceil(raw.byteLength * 2.5) + 100);
    expect(() => prepareCall('openai', Buffer.from('[1]'), { maxTokensField: 'max_tokens' })).toThrow(/JSON object/);
  });
});

describe('usage', () => {
  it('reads OpenAI and Anthropic bodies, counting Anthropic cache reads and writes', () => {
    expect(usageFromBody('openai', json({ usage: { prompt_tokens: 10, completion_tokens: 5 } }))).toEqual({ inputTokens: 10, outputTokens: 5, cacheWriteTokens: 0 });
    const anthropic = usageFromBody('anthropic', json({ usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 7, cache_creation_input_tokens: 3 } }));
    expect(anthropic).toEqual({ inputTokens: 17, outputTokens: 5, cacheWriteTokens: 3 });
    expect(costMicros(anthropic!, prices)).toBe(Math.ceil(17 * 2.5) + 2 * Math.ceil(3 * 2.5) + 50);
    expect(usageFromBody('openai', json({ choices: [] }))).toBeUndefined();
    expect(usageFromBody('openai', Buffer.from('not json'))).toBeUndefined();
  });

  it('meters an OpenAI stream from its usage chunk, split anywhere', () => {
    const text = sse([
      [undefined, { id: 'c', choices: [{ delta: { content: 'he' } }], usage: null }],
      [undefined, { id: 'c', choices: [{ delta: {}, finish_reason: 'stop' }], usage: null }],
      [undefined, { id: 'c', choices: [], usage: { prompt_tokens: 12, completion_tokens: 3 } }],
      [undefined, '[DONE]'],
    ]);
    const meter = new StreamMeter('openai');
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += 7) meter.push(bytes.subarray(i, i + 7));
    expect(meter.result()).toEqual({ inputTokens: 12, outputTokens: 3, cacheWriteTokens: 0 });
  });

  it('meters an Anthropic stream from message_start and the last message_delta', () => {
    const meter = new StreamMeter('anthropic');
    meter.push(Buffer.from(sse([
      ['message_start', { type: 'message_start', message: { usage: { input_tokens: 20, output_tokens: 1 } } }],
      ['content_block_delta', { type: 'content_block_delta', delta: { type: 'text_delta', text: 'x' } }],
      ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9 } }],
    ])));
    expect(meter.result()).toBeUndefined();
    meter.push(Buffer.from(sse([['message_stop', { type: 'message_stop' }]])));
    expect(meter.result()).toEqual({ inputTokens: 20, outputTokens: 9, cacheWriteTokens: 0 });
  });

  it('knows nothing of a stream cut before its end', () => {
    const openai = new StreamMeter('openai');
    openai.push(Buffer.from(sse([[undefined, { choices: [{ delta: { content: 'x' } }] }]])));
    expect(openai.result()).toBeUndefined();
    const noUsage = new StreamMeter('openai');
    noUsage.push(Buffer.from(sse([[undefined, '[DONE]']])));
    expect(noUsage.result()).toBeUndefined();
  });
});
