import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../lib/clock.ts';
import type { TokenUsage, WireFormat } from './metering.ts';

/** An upstream's answer, as needed to replay it byte for byte: a streamed one is its raw server-sent events. */
export type CachedAnswer = { contentType: string; body: Buffer; usage: TokenUsage };

/** Everything that decides an upstream's answer: who answers (provider, where its upstream is), in what format, with which model, to what. */
export type CallIdentity = {
  provider: string;
  /** The provider's type and where its calls go: a provider repointed at another upstream is another cache. */
  type: string;
  url: string;
  format: WireFormat;
  model: string;
  /** Request headers that change the answer (Anthropic's API version and betas). */
  headers: Record<string, string | undefined>;
  /** The request as it goes upstream, every parameter and message included. */
  body: unknown;
};

/**
 * The cache key of a call: a sha256 of its identity in canonical JSON (object keys
 * sorted), so two spellings of the same call (keys in another order, other whitespace)
 * are one entry, and any differing parameter is another.
 */
export function cacheKey(call: CallIdentity): string {
  const { provider, type, url, format, model, headers, body } = call;
  return createHash('sha256').update(canonicalJson([provider, type, url, format, model, headers, body])).digest('hex');
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

export type ResponseCacheOptions = { maxAgeMs: number; maxBytes: number; clock: Clock };

/** An answer and the attempts (Job uids) that have had it, the one it was answered to first. */
type Entry = { answer: CachedAnswer; attempts: string[] };

/**
 * How many attempts an entry remembers having given its answer to. An attempt asks the
 * same call again within seconds (see `get`), so the latest few are all that matter.
 */
const REMEMBERED_ATTEMPTS = 32;

/**
 * Answers to identical model calls, bounded by total bytes (least recently used first
 * out) and by age: an entry older than maxAgeMs is a miss and is dropped. An answer
 * larger than the whole bound is not stored. Ages are on the injected clock.
 */
export class ResponseCache {
  readonly #lru: LRUCache<string, Entry>;

  constructor(o: ResponseCacheOptions) {
    this.#lru = new LRUCache<string, Entry>({
      maxSize: o.maxBytes,
      sizeCalculation: ({ answer }, key) => answer.body.byteLength + answer.contentType.length + key.length,
      ttl: o.maxAgeMs,
      // Read the clock on every check: the default caches it behind a real timer, which an injected clock does not drive.
      ttlResolution: 0,
      perf: { now: () => o.clock.now() },
    });
  }

  /**
   * The answer to a call for `attempt` (its Job's uid), unless that attempt has had it
   * already. An attempt that makes the very same call again wants another answer: its
   * runner asks again when an answer does not validate, and that re-ask is word for word
   * the last one when the model repeated itself. Replaying what it already has would spend
   * the re-ask on nothing and fail the task on an answer the provider might not give
   * again; so the entry is dropped and the call goes upstream (its answer takes the place).
   */
  get(key: string, attempt: string): CachedAnswer | undefined {
    const entry = this.#lru.get(key);
    if (!entry) return undefined;
    if (entry.attempts.includes(attempt)) {
      this.#lru.delete(key);
      return undefined;
    }
    entry.attempts.push(attempt);
    if (entry.attempts.length > REMEMBERED_ATTEMPTS) entry.attempts.shift();
    return entry.answer;
  }

  /** Keeps the answer `attempt` was given by the upstream. */
  set(key: string, answer: CachedAnswer, attempt: string): void {
    this.#lru.set(key, { answer, attempts: [attempt] });
  }

  /** Bytes held, as the bound counts them. */
  get bytes(): number {
    return this.#lru.calculatedSize;
  }
}
