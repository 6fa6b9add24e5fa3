import { tokenCostMicros, type Prices } from '../api/money.ts';
import type { WireFormat } from '../protocol/task.ts';

export type { WireFormat };

export type TokenUsage = { inputTokens: number; outputTokens: number; cacheWriteTokens: number };

/** Output tokens a call may produce when it does not say: a call with no bound could not be reserved. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4096;

export type PreparedCall = {
  /** The request as it goes upstream: a bound on output always set, usage always asked for. */
  body: Record<string, unknown>;
  stream: boolean;
  /** At least as many input tokens as the call can be billed for. */
  maxInputTokens: number;
  maxOutputTokens: number;
  /** Anthropic prompt caching: cache writes bill above the input price. */
  cacheWrites: boolean;
};

export class BadCallError extends Error {
  override name = 'BadCallError';
}

/**
 * Fixes what a call may cost before it is sent. Input: every token is at least one byte
 * in the byte-level BPE tokenizers all these providers use, so the request's size in
 * bytes bounds its input tokens (message framing and tool schemas included, as they are
 * in the body). Output: `max_tokens` (or `max_completion_tokens`) times `n`, set to a
 * default when the caller left it open. Streamed OpenAI calls are made to report usage
 * (`stream_options.include_usage`), without which a streamed call cannot be metered.
 */
export function prepareCall(format: WireFormat, raw: Buffer, o: { maxTokensField: 'max_tokens' | 'max_completion_tokens' }): PreparedCall {
  let body: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    body = parsed as Record<string, unknown>;
  } catch {
    throw new BadCallError('the request body is not a JSON object');
  }
  const stream = body.stream === true;
  const bound = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined);
  let maxOutputTokens: number;
  if (format === 'anthropic') {
    const max = bound(body.max_tokens);
    if (max === undefined) throw new BadCallError('max_tokens is required');
    maxOutputTokens = max;
  } else {
    const given = bound(body.max_completion_tokens) ?? bound(body.max_tokens);
    maxOutputTokens = given ?? DEFAULT_MAX_OUTPUT_TOKENS;
    if (given === undefined) body = { ...body, [o.maxTokensField]: maxOutputTokens };
    const n = bound(body.n) ?? 1;
    maxOutputTokens *= n;
    if (stream) body = { ...body, stream_options: { ...(body.stream_options as object | undefined), include_usage: true } };
  }
  return { body, stream, maxInputTokens: raw.byteLength, maxOutputTokens, cacheWrites: format === 'anthropic' && raw.includes('"cache_control"') };
}

/**
 * The most a prepared call can cost. A cache write bills up to twice the input price
 * (Anthropic's one-hour cache), so a call that may write one is reserved at that.
 */
export function worstCaseMicros(call: Pick<PreparedCall, 'maxInputTokens' | 'maxOutputTokens' | 'cacheWrites'>, prices: Prices): number {
  const input = tokenCostMicros(call.maxInputTokens, prices.inputMicrosPerMillion);
  return (call.cacheWrites ? 2 * input : input) + tokenCostMicros(call.maxOutputTokens, prices.outputMicrosPerMillion);
}

/** What a call cost, from the usage the provider reported. */
export function costMicros(usage: TokenUsage, prices: Prices): number {
  return tokenCostMicros(usage.inputTokens, prices.inputMicrosPerMillion)
    + 2 * tokenCostMicros(usage.cacheWriteTokens, prices.inputMicrosPerMillion)
    + tokenCostMicros(usage.outputTokens, prices.outputMicrosPerMillion);
}

type Json = Record<string, unknown>;
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);

/**
 * Usage from a provider's usage object. OpenAI's prompt_tokens already include cached
 * ones; Anthropic's input_tokens leave out cache reads and writes, which are billed too.
 */
function readUsage(format: WireFormat, usage: unknown): TokenUsage | undefined {
  if (typeof usage !== 'object' || usage === null) return undefined;
  const u = usage as Json;
  if (format === 'openai') {
    if (typeof u.prompt_tokens !== 'number' && typeof u.completion_tokens !== 'number') return undefined;
    return { inputTokens: num(u.prompt_tokens), outputTokens: num(u.completion_tokens), cacheWriteTokens: 0 };
  }
  return {
    inputTokens: num(u.input_tokens) + num(u.cache_read_input_tokens),
    outputTokens: num(u.output_tokens),
    cacheWriteTokens: num(u.cache_creation_input_tokens),
  };
}

/** Usage of a complete, non-streamed answer; undefined when the provider reported none. */
export function usageFromBody(format: WireFormat, body: Buffer): TokenUsage | undefined {
  try {
    return readUsage(format, (JSON.parse(body.toString('utf8')) as Json).usage);
  } catch {
    return undefined;
  }
}

/**
 * Reads usage off a server-sent-event stream as it passes through, without holding it.
 * OpenAI reports usage once, in a last chunk whose `choices` is empty; Anthropic reports
 * input tokens in `message_start` and the running output count in each `message_delta`.
 * `result()` is undefined until the stream has reached its end as the protocol marks
 * it: a stream cut before that is charged at its reservation, since what was billed
 * for it is unknown.
 */
export class StreamMeter {
  readonly #format: WireFormat;
  readonly #decoder = new TextDecoder();
  #buffer = '';
  #usage: TokenUsage | undefined;
  #done = false;

  constructor(format: WireFormat) {
    this.#format = format;
  }

  push(chunk: Uint8Array): void {
    this.#buffer += this.#decoder.decode(chunk, { stream: true });
    for (let nl = this.#buffer.indexOf('\n'); nl >= 0; nl = this.#buffer.indexOf('\n')) {
      const line = this.#buffer.slice(0, nl).replace(/\r$/, '');
      this.#buffer = this.#buffer.slice(nl + 1);
      if (line.startsWith('data:')) this.#data(line.slice(5).trim());
    }
  }

  result(): TokenUsage | undefined {
    return this.#done ? this.#usage : undefined;
  }

  #data(data: string): void {
    if (this.#format === 'openai' && data === '[DONE]') {
      this.#done = this.#usage !== undefined;
      return;
    }
    let event: Json;
    try {
      event = JSON.parse(data) as Json;
    } catch {
      return;
    }
    if (this.#format === 'openai') {
      const usage = readUsage('openai', event.usage);
      if (usage) this.#usage = usage;
      return;
    }
    switch (event.type) {
      case 'message_start':
        this.#usage = readUsage('anthropic', (event.message as Json | undefined)?.usage);
        break;
      case 'message_delta': {
        const delta = (event.usage ?? {}) as Json;
        const base = this.#usage ?? { inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0 };
        // Later counts replace earlier ones: message_delta carries running totals.
        this.#usage = {
          inputTokens: 'input_tokens' in delta ? num(delta.input_tokens) + num(delta.cache_read_input_tokens) : base.inputTokens,
          outputTokens: 'output_tokens' in delta ? num(delta.output_tokens) : base.outputTokens,
          cacheWriteTokens: 'cache_creation_input_tokens' in delta ? num(delta.cache_creation_input_tokens) : base.cacheWriteTokens,
        };
        break;
      }
      case 'message_stop':
        this.#done = this.#usage !== undefined;
        break;
    }
  }
}
