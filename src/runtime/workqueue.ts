import { systemClock, type Clock } from '../lib/clock.ts';
import { PerKeyBackoff, TokenBucket, type BackoffOptions } from '../lib/rate-limit.ts';

export interface WorkQueueOptions {
  clock?: Clock;
  /** Per-key exponential backoff for `addRateLimited` (default 5 ms doubling to 5 min, 20 % jitter). */
  backoff?: Partial<BackoffOptions>;
  /** Global limit on rate-limited re-adds across all keys (default 10/s, burst 100). */
  qps?: number;
  burst?: number;
}

/**
 * A queue of keys in the manner of client-go's workqueue: a key waits at most once (dedupe),
 * is handed to at most one worker at a time, and a key added while it is being processed is
 * queued again when that processing is `done`, so no change is ever lost nor handled twice
 * concurrently.
 */
export class WorkQueue {
  private readonly clock: Clock;
  private readonly order: string[] = [];
  private readonly queued = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, { at: number; handle: unknown }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private readonly backoff: PerKeyBackoff;
  private readonly bucket: TokenBucket;
  private shuttingDown = false;
  private retryCount = 0;

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.backoff = new PerKeyBackoff({ baseMs: 5, maxMs: 300_000, jitter: 0.2, ...options.backoff });
    this.bucket = new TokenBucket(options.qps ?? 10, options.burst ?? 100, this.clock);
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    this.cancelDelayed(key);
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    const waiter = this.waiters.shift();
    if (waiter) this.hand(key, waiter);
    else this.order.push(key);
  }

  /** Adds the key after `ms`; an earlier pending deadline for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) this.clock.clearTimeout(pending.handle);
    const handle = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, handle });
  }

  /** Re-adds a key that failed: the larger of its own backoff and the global limit's delay. */
  addRateLimited(key: string): number {
    const delay = Math.max(this.backoff.next(key), this.bucket.reserve());
    this.retryCount++;
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears the key's failure history: its next failure starts from the base delay again. */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  /** How many times the key has failed in a row. */
  numRequeues(key: string): number {
    return this.backoff.retries(key);
  }

  /** Next key to process, or undefined once the queue is shut down. Pair every key with `done`. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.order.shift();
    if (key !== undefined) {
      this.queued.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
    if (this.processing.size === 0) this.idleWaiters.splice(0).forEach((w) => w());
  }

  /** Keys waiting to be processed (not counting delayed or in-flight ones): the depth metric. */
  len(): number {
    return this.order.length;
  }

  /** Total rate-limited re-adds since start: the retries metric. */
  retries(): number {
    return this.retryCount;
  }

  inFlight(): string[] {
    return [...this.processing];
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Stops handing out work and drops everything waiting or delayed (the next leader or the
   * next start recomputes it from the cluster: reconciles are level-based), then waits for
   * in-flight keys to be `done`, up to `deadlineMs`. Returns the keys still in flight.
   */
  async shutdown(deadlineMs: number): Promise<string[]> {
    this.shuttingDown = true;
    this.order.length = 0;
    this.queued.clear();
    this.dirty.clear();
    for (const { handle } of this.delayed.values()) this.clock.clearTimeout(handle);
    this.delayed.clear();
    this.waiters.splice(0).forEach((w) => w(undefined));
    if (this.processing.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.clock.setTimeout(resolve, deadlineMs);
        this.idleWaiters.push(() => { this.clock.clearTimeout(timer); resolve(); });
      });
    }
    return [...this.processing];
  }

  private hand(key: string, waiter: (key: string) => void): void {
    this.queued.delete(key);
    this.processing.add(key);
    waiter(key);
  }

  private cancelDelayed(key: string): void {
    const pending = this.delayed.get(key);
    if (!pending) return;
    this.clock.clearTimeout(pending.handle);
    this.delayed.delete(key);
  }
}
