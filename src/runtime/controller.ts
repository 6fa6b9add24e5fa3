import type { Logger } from '../observability/logger.ts';
import type { Metrics, ReconcileResult } from '../observability/metrics.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import { WorkQueue, type WorkQueueOptions } from './workqueue.ts';

/**
 * A failure that retrying cannot fix (invalid spec, missing permission the user must grant):
 * logged and counted, never retried. A later change to the object enqueues it again.
 */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

export interface ReconcileContext {
  /** Aborted when the controller stops and its shutdown deadline has passed. */
  signal: AbortSignal;
  log: Logger;
}

/** `requeueAfter` (ms) asks for another reconcile later even if nothing changes. */
export type ReconcileOutcome = { requeueAfter?: number } | void;

export type Reconciler = (key: string, ctx: ReconcileContext) => Promise<ReconcileOutcome>;

export interface ControllerOptions {
  name: string;
  reconcile: Reconciler;
  logger: Logger;
  metrics: Metrics;
  workers?: number;
  clock?: Clock;
  queue?: WorkQueueOptions;
  /** Log field that carries the key (default `key`); the Startup controller uses `startup` so its logs filter by startup. */
  logKeyAs?: string;
}

/**
 * Runs `workers` loops over a work queue of keys. Level-based: the key says what to look
 * at, never what happened, so a dropped or merged event costs nothing but latency.
 */
export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly reconcile: Reconciler;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly workers: number;
  private readonly clock: Clock;
  private readonly logKeyAs: string;
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];

  constructor(o: ControllerOptions) {
    this.name = o.name;
    this.reconcile = o.reconcile;
    this.log = o.logger.child({ controller: o.name });
    this.metrics = o.metrics;
    this.workers = o.workers ?? 1;
    this.clock = o.clock ?? systemClock;
    this.logKeyAs = o.logKeyAs ?? 'key';
    this.queue = new WorkQueue({ clock: this.clock, ...o.queue });
    this.metrics.trackQueueDepth(o.name, () => this.queue.len());
  }

  /** The informer-facing entry point: callbacks only ever call this. */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  start(): void {
    if (this.loops.length > 0) return;
    this.log.info({ workers: this.workers }, 'controller started');
    this.loops = Array.from({ length: this.workers }, () => this.worker());
  }

  /**
   * Stops taking work and waits up to `deadlineMs` for in-flight reconciles; past it they are
   * signalled to abort and abandoned (the next leader redoes them: reconciles are idempotent).
   */
  async stop(deadlineMs: number): Promise<string[]> {
    const abandoned = await this.queue.shutdown(deadlineMs);
    if (abandoned.length > 0) {
      this.abort.abort(new Error('controller stopped'));
      this.log.warn({ abandoned }, 'abandoned in-flight reconciles at shutdown deadline');
    } else {
      await Promise.all(this.loops);
    }
    this.log.info('controller stopped');
    return abandoned;
  }

  /** Processes one key to completion; exposed so tests can drive the controller step by step. */
  async processNext(): Promise<boolean> {
    const key = await this.queue.get();
    if (key === undefined) return false;
    const log = this.log.child({ [this.logKeyAs]: key });
    const started = this.clock.now();
    let result: ReconcileResult;
    try {
      const outcome = await this.reconcile(key, { signal: this.abort.signal, log });
      this.queue.forget(key);
      if (outcome && outcome.requeueAfter !== undefined && outcome.requeueAfter >= 0) {
        this.queue.addAfter(key, outcome.requeueAfter);
        result = 'requeue';
      } else {
        result = 'success';
      }
    } catch (err) {
      if (err instanceof TerminalError) {
        this.queue.forget(key);
        result = 'terminal';
        log.error({ err }, 'reconcile failed permanently; waiting for the object to change');
      } else if (this.queue.isShuttingDown()) {
        result = 'error';
        log.warn({ err }, 'reconcile failed during shutdown');
      } else {
        const delay = this.queue.addRateLimited(key);
        this.metrics.workqueueRetries.inc({ controller: this.name });
        result = 'error';
        log.warn({ err, retryInMs: delay, failures: this.queue.numRequeues(key) }, 'reconcile failed; retrying with backoff');
      }
    } finally {
      this.queue.done(key);
    }
    this.metrics.reconcileTotal.inc({ controller: this.name, result });
    this.metrics.reconcileDuration.observe({ controller: this.name }, (this.clock.now() - started) / 1000);
    return true;
  }

  private async worker(): Promise<void> {
    while (await this.processNext());
  }
}
