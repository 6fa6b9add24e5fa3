import { describe, expect, it } from 'vitest';
import { Semaphore } from './semaphore.ts';

const tick = () => new Promise((r) => setImmediate(r));

describe('Semaphore', () => {
  it('lets `limit` holders in at once and the rest in arrival order', async () => {
    const s = new Semaphore();
    const order: number[] = [];
    const releases = await Promise.all([s.acquire(2), s.acquire(2)]);
    const waiting = [3, 4].map((n) => s.acquire(2).then((release) => { order.push(n); return release; }));
    await tick();
    expect(order).toEqual([]);
    releases[0]!();
    await tick();
    expect(order).toEqual([3]);
    releases[1]!();
    await tick();
    expect(order).toEqual([3, 4]);
    for (const r of await Promise.all(waiting)) r();
  });

  it('frees a waiter\'s place when its signal aborts, and ignores a second release', async () => {
    const s = new Semaphore();
    const first = await s.acquire(1);
    const abort = new AbortController();
    const gaveUp = s.acquire(1, abort.signal);
    abort.abort(new Error('client went away'));
    await expect(gaveUp).rejects.toThrow('client went away');
    first();
    first();
    const next = await s.acquire(1);
    let third = false;
    void s.acquire(1).then(() => { third = true; });
    await tick();
    expect(third).toBe(false);
    next();
    await tick();
    expect(third).toBe(true);
  });
});
