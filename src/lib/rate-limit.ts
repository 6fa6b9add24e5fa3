import type { Clock } from './clock.ts';

/**
 * A token bucket that hands out reservations: `reserve()` takes a token now and says how
 * long the caller must wait before using it. Used both as the work queue's global limit and
 * as the API client's qps/burst limiter, so a burst of errors or requests is smoothed
 * instead of refused.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly qps: number;
  private readonly burst: number;
  private readonly clock: Clock;

  constructor(qps: number, burst: number, clock: Clock) {
    if (!(qps > 0) || !(burst >= 1)) throw new Error(`token bucket needs qps > 0 and burst >= 1 (got ${qps}, ${burst})`);
    this.qps = qps;
    this.burst = burst;
    this.clock = clock;
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Takes one token; returns the delay in ms after which it may be used (0 = now). */
  reserve(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Fraction of the delay that is randomised: 0.2 spreads retries over [0.8d, d]. */
  jitter: number;
  random?: () => number;
}

/**
 * Exponential backoff with jitter and a cap: `base * 2^attempt`, at most `max`, with the
 * last `jitter` fraction randomised so many keys failing together do not retry in lockstep.
 */
export function backoffDelay(attempt: number, o: BackoffOptions): number {
  const raw = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(attempt, 52));
  const r = (o.random ?? Math.random)();
  return Math.round(raw * (1 - o.jitter * r));
}

/** Per-key failure counts feeding `backoffDelay`; `forget` resets a key after success. */
export class PerKeyBackoff {
  private readonly failures = new Map<string, number>();
  private readonly options: BackoffOptions;

  constructor(options: BackoffOptions) {
    this.options = options;
  }

  next(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return backoffDelay(n, this.options);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}
