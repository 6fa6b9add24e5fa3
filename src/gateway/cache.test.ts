import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../test/support/manual-clock.ts';
import { ResponseCache, cacheKey, type CachedAnswer, type CallIdentity } from './cache.ts';

const call: CallIdentity = {
  provider: 'openai', type: 'openai', url: 'https://api.openai.com/v1/chat/completions', format: 'openai', model: 'gpt-test',
  headers: {},
  body: {
    model: 'gpt-test', stream: true, max_completion_tokens: 4096, temperature: 0.2, stream_options: { include_usage: true },
    messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Name a colour.' }],
  },
};
const answer = (bytes: number): CachedAnswer => ({ contentType: 'text/event-stream', body: Buffer.alloc(bytes, 'x'), usage: { inputTokens: 10, outputTokens: 2, cacheWriteTokens: 0 } });
/** What an entry of `bytes` body bytes counts against the bound: the body, its content type and its key. */
const size = (bytes: number) => bytes + 'text/event-stream'.length + 64;
const start = Date.parse('2026-12-01T10:00:00Z');

describe('cacheKey', () => {
  it('is the same for the same call however its JSON is spelled', () => {
    const body = call.body as Record<string, unknown>;
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const messages = (body.messages as object[]).map((m) => Object.fromEntries(Object.entries(m).reverse()));
    const options = Object.fromEntries(Object.entries(body.stream_options as object).reverse());
    expect(cacheKey({ ...call, body: { ...reordered, messages, stream_options: options } })).toBe(cacheKey(call));
    expect(cacheKey({ ...call, body: JSON.parse(JSON.stringify(call.body, null, 2)) })).toBe(cacheKey(call));
  });

  it('differs when anything that decides the answer differs', () => {
    const body = call.body as Record<string, unknown>;
    const variants: CallIdentity[] = [
      { ...call, provider: 'openai-2' },
      { ...call, type: 'openai-compatible' },
      { ...call, url: 'https://proxy.example/v1/chat/completions' },
      { ...call, format: 'anthropic' },
      { ...call, model: 'gpt-other' },
      { ...call, headers: { 'anthropic-beta': 'x' } },
      { ...call, body: { ...body, temperature: 0.3 } },
      { ...call, body: { ...body, stream: false } },
      { ...call, body: { ...body, max_completion_tokens: 4095 } },
      { ...call, body: { ...body, messages: [...(body.messages as object[]), { role: 'user', content: 'Again.' }] } },
      { ...call, body: { ...body, messages: [{ role: 'system', content: 'Be brief!' }, (body.messages as object[])[1]] } },
    ];
    const keys = new Set([cacheKey(call), ...variants.map(cacheKey)]);
    expect(keys.size).toBe(variants.length + 1);
  });
});

describe('ResponseCache', () => {
  it('answers a stored call and misses one never stored', () => {
    const cache = new ResponseCache({ maxAgeMs: 60_000, maxBytes: 1 << 20, clock: new ManualClock(start) });
    const stored = answer(100);
    cache.set('a', stored, 'job-1');
    expect(cache.get('a', 'job-2')).toBe(stored);
    expect(cache.get('b', 'job-2')).toBeUndefined();
    expect(cache.bytes).toBe(100 + 'text/event-stream'.length + 1);
  });

  it('misses and drops an entry older than the max age, on the injected clock', () => {
    const clock = new ManualClock(start);
    const cache = new ResponseCache({ maxAgeMs: 60_000, maxBytes: 1 << 20, clock });
    cache.set('a', answer(10), 'job-1');
    clock.advance(60_000);
    expect(cache.get('a', 'job-2')).toBeDefined();
    clock.advance(1);
    expect(cache.get('a', 'job-3')).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });

  it('evicts the least recently used entries to stay within its bytes', () => {
    const key = (n: number) => String(n).padStart(64, '0');
    const cache = new ResponseCache({ maxAgeMs: 60_000, maxBytes: 3 * size(100), clock: new ManualClock(start) });
    for (const n of [1, 2, 3]) cache.set(key(n), answer(100), 'job-1');
    expect(cache.get(key(1), 'job-2')).toBeDefined();
    cache.set(key(4), answer(100), 'job-1');
    expect(cache.get(key(2), 'job-3')).toBeUndefined();
    for (const n of [1, 3, 4]) expect(cache.get(key(n), 'job-3'), `entry ${n}`).toBeDefined();
    expect(cache.bytes).toBe(3 * size(100));
  });

  it('does not store an answer larger than its whole bound, nor evict others for it', () => {
    const key = (n: number) => String(n).padStart(64, '0');
    const cache = new ResponseCache({ maxAgeMs: 60_000, maxBytes: size(100), clock: new ManualClock(start) });
    cache.set(key(1), answer(100), 'job-1');
    cache.set(key(2), answer(101), 'job-1');
    expect(cache.get(key(2), 'job-2')).toBeUndefined();
    expect(cache.get(key(1), 'job-2')).toBeDefined();
  });

  it('does not replay an answer to the attempt that had it, which is asking again: drops it so the call goes upstream', () => {
    const cache = new ResponseCache({ maxAgeMs: 60_000, maxBytes: 1 << 20, clock: new ManualClock(start) });
    const invalid = answer(10);
    cache.set('a', invalid, 'job-1');
    // Other attempts making the same call get it, each once.
    expect(cache.get('a', 'job-2')).toBe(invalid);
    expect(cache.get('a', 'job-3')).toBe(invalid);
    // The one it was answered to asks the very same thing again (a re-ask after an answer that did not validate).
    expect(cache.get('a', 'job-1')).toBeUndefined();
    // Gone for every attempt: the answer the upstream gives to the repeated call takes its place.
    expect(cache.get('a', 'job-4')).toBeUndefined();
    const fresh = answer(12);
    cache.set('a', fresh, 'job-1');
    expect(cache.get('a', 'job-2')).toBe(fresh);
    // An attempt served from the cache that asks again is asking again too.
    expect(cache.get('a', 'job-2')).toBeUndefined();
  });
});
