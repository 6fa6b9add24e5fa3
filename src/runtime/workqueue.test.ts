import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../test/support/manual-clock.ts';
import { WorkQueue } from './workqueue.ts';

const noJitter = { jitter: 0 };

describe('WorkQueue', () => {
  it('dedupes a key while it waits and keeps insertion order', async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    q.add('a'); q.add('b'); q.add('a');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
  });

  it('never hands the same key to two workers; a re-add during processing comes back after done', async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    q.add('a');
    const key = await q.get();
    q.add('a');
    expect(q.len()).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => { second = k; });
    await Promise.resolve();
    expect(second).toBeUndefined();
    q.done(key!);
    await Promise.resolve();
    expect(second).toBe('a');
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    const pending = q.get();
    q.add('x');
    expect(await pending).toBe('x');
  });

  it('addAfter delays, and the earliest deadline for a key wins', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 1000);
    q.addAfter('a', 200);
    q.addAfter('a', 5000);
    clock.advance(199);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
    clock.advance(10_000);
    expect(q.len()).toBe(1);
    expect(clock.pending()).toBe(0);
  });

  it('an immediate add supersedes a pending delayed add', () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 1000);
    q.add('a');
    expect(q.len()).toBe(1);
    expect(clock.pending()).toBe(0);
  });

  it('backs off exponentially per key up to the cap, and forget resets it', () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock, backoff: { baseMs: 5, maxMs: 1000, ...noJitter }, qps: 1e6, burst: 1e6 });
    const delays = Array.from({ length: 10 }, () => q.addRateLimited('a'));
    expect(delays).toEqual([5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    expect(q.numRequeues('a')).toBe(10);
    expect(q.addRateLimited('b')).toBe(5);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
    expect(q.addRateLimited('a')).toBe(5);
    expect(q.retries()).toBe(12);
  });

  it('jitter only ever shortens the delay, within the jitter fraction', () => {
    const q = new WorkQueue({ clock: new ManualClock(), backoff: { baseMs: 1000, maxMs: 1000, jitter: 0.2, random: () => 0.999 }, qps: 1e6, burst: 1e6 });
    const d = q.addRateLimited('a');
    expect(d).toBeGreaterThanOrEqual(800);
    expect(d).toBeLessThanOrEqual(1000);
  });

  it('applies the global token bucket across keys once the burst is spent', () => {
    const q = new WorkQueue({ clock: new ManualClock(), backoff: { baseMs: 1, maxMs: 1, ...noJitter }, qps: 10, burst: 2 });
    const delays = ['a', 'b', 'c', 'd'].map((k) => q.addRateLimited(k));
    expect(delays).toEqual([1, 1, 100, 200]);
  });

  it('shutdown drops waiting and delayed keys, releases idle workers, and waits for in-flight work', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock });
    q.add('busy'); q.add('waiting'); q.addAfter('later', 50);
    const busy = await q.get();
    const idle = q.get();
    expect(await idle).toBe('waiting');
    q.done('waiting');
    const idle2 = q.get();
    let finished: string[] | undefined;
    const stopping = q.shutdown(10_000).then((left) => { finished = left; });
    expect(await idle2).toBeUndefined();
    await Promise.resolve();
    expect(finished).toBeUndefined();
    q.done(busy!);
    await stopping;
    expect(finished).toEqual([]);
    q.add('after');
    expect(q.len()).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('shutdown gives up on in-flight work at the deadline and reports it', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock });
    q.add('stuck');
    await q.get();
    const stopping = q.shutdown(500);
    clock.advance(500);
    expect(await stopping).toEqual(['stuck']);
  });
});
