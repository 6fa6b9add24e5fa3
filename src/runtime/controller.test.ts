import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.ts';
import { Metrics } from '../observability/metrics.ts';
import { ManualClock } from '../../test/support/manual-clock.ts';
import { Controller, TerminalError, type Reconciler } from './controller.ts';

const logger = createLogger({ level: 'silent' });

function make(reconcile: Reconciler, clock = new ManualClock()) {
  const metrics = new Metrics({ defaultMetrics: false });
  const controller = new Controller({
    name: 'test', reconcile, logger, metrics, clock,
    queue: { backoff: { baseMs: 10, maxMs: 1000, jitter: 0 }, qps: 1000, burst: 1000 },
  });
  const count = async (result: string) =>
    (await metrics.reconcileTotal.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
  return { controller, metrics, clock, count };
}

describe('Controller', () => {
  it('retries thrown errors with backoff and forgets the key after success', async () => {
    let calls = 0;
    const { controller, clock, count, metrics } = make(async () => {
      calls++;
      if (calls < 3) throw new Error('transient');
    });
    controller.enqueue('a');
    await controller.processNext();
    expect(controller.queue.len()).toBe(0);
    clock.advance(9);
    expect(controller.queue.len()).toBe(0);
    clock.advance(1);
    await controller.processNext();
    clock.advance(20);
    await controller.processNext();
    expect(calls).toBe(3);
    expect(controller.queue.numRequeues('a')).toBe(0);
    expect(await count('error')).toBe(2);
    expect(await count('success')).toBe(1);
    expect((await metrics.workqueueRetries.get()).values[0]?.value).toBe(2);
  });

  it('does not retry a TerminalError', async () => {
    const { controller, clock, count } = make(async () => { throw new TerminalError('bad spec'); });
    controller.enqueue('a');
    await controller.processNext();
    clock.advance(1_000_000);
    expect(controller.queue.len()).toBe(0);
    expect(await count('terminal')).toBe(1);
  });

  it('honours requeueAfter', async () => {
    const { controller, clock, count } = make(async () => ({ requeueAfter: 5000 }));
    controller.enqueue('a');
    await controller.processNext();
    clock.advance(4999);
    expect(controller.queue.len()).toBe(0);
    clock.advance(1);
    expect(controller.queue.len()).toBe(1);
    expect(await count('requeue')).toBe(1);
  });

  it('reports queue depth and reconcile durations', async () => {
    const { controller, metrics } = make(async () => undefined);
    controller.enqueue('a'); controller.enqueue('b');
    const text = await metrics.registry.metrics();
    expect(text).toContain('startup_factory_workqueue_depth{controller="test"} 2');
    await controller.processNext();
    expect(await metrics.registry.metrics()).toContain('startup_factory_reconcile_duration_seconds_count{controller="test"} 1');
  });

  it('workers run different keys concurrently but one key at a time', async () => {
    const running = new Set<string>();
    let maxParallel = 0;
    let overlapSameKey = false;
    const releases: (() => void)[] = [];
    const reconcile: Reconciler = async (key) => {
      if (running.has(key)) overlapSameKey = true;
      running.add(key);
      maxParallel = Math.max(maxParallel, running.size);
      await new Promise<void>((r) => releases.push(r));
      running.delete(key);
    };
    const c = new Controller({ name: 'par', reconcile, logger, metrics: new Metrics({ defaultMetrics: false }), workers: 3 });
    c.start();
    c.enqueue('a'); c.enqueue('b'); c.enqueue('a');
    await new Promise((r) => setImmediate(r));
    expect(maxParallel).toBe(2);
    releases.splice(0).forEach((r) => r());
    await new Promise((r) => setImmediate(r));
    releases.splice(0).forEach((r) => r());
    await c.stop(1000);
    expect(overlapSameKey).toBe(false);
  });

  it('stop waits for in-flight work, then abandons it at the deadline with the signal aborted', async () => {
    let signal: AbortSignal | undefined;
    const clock = new ManualClock();
    const { controller } = make(async (_key, ctx) => {
      signal = ctx.signal;
      await new Promise(() => undefined);
    }, clock);
    controller.start();
    controller.enqueue('stuck');
    await new Promise((r) => setImmediate(r));
    const stopping = controller.stop(2000);
    clock.advance(2000);
    expect(await stopping).toEqual(['stuck']);
    expect(signal?.aborted).toBe(true);
  });
});

describe('Controller logs', () => {
  it('carry the key under the configured field, so a Startup\'s lines filter by `startup`', async () => {
    const { Writable } = await import('node:stream');
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
    const c = new Controller({
      name: 'startup', logKeyAs: 'startup', logger: createLogger({ level: 'info', destination: sink }), metrics: new Metrics({ defaultMetrics: false }),
      clock: new ManualClock(), reconcile: async (_key, ctx) => { ctx.log.info('reconciling'); },
    });
    c.enqueue('acme');
    await c.processNext();
    expect(lines.map((l) => JSON.parse(l)).find((e) => e.msg === 'reconciling')).toMatchObject({ startup: 'acme', controller: 'startup' });
  });
});
