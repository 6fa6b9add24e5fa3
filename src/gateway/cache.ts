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

/**
 * Answers to identical model calls, bounded by total bytes (least recently used first
 * out) and by age: an entry older than maxAgeMs is a miss and is dropped. An answer
 * larger than the whole bound is not stored. Ages are on the injected clock.
 */
export class ResponseCache {
  readonly #lru: LRUCache<string, CachedAnswer>;

  constructor(o: ResponseCacheOptions) {
    this.#lru = new LRUCache<string, CachedAnswer>({
      maxSize: o.maxBytes,
      sizeCalculation: (answer, key) => answer.body.byteLength + answer.contentType.length + key.length,
      ttl: o.maxAgeMs,
      // Read the clock on every check: the default caches it behind a real timer, which an injected clock does not drive.
      ttlResolution: 0,
      perf: { now: () => o.clock.now() },
    });
  }

  get(key: string): CachedAnswer | undefined {
    return this.#lru.get(key);
  }

  set(key: string, answer: CachedAnswer): void {
    this.#lru.set(key, answer);
  }

  /** Bytes held, as the bound counts them. */
  get bytes(): number {
    return this.#lru.calculatedSize;
  }
}
