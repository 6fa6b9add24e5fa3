import type { Clock } from '../../src/lib/clock.ts';

/**
 * Real time plus an offset a test moves forward: everything keeps running at its own
 * pace (Jobs, pods, the API server), but the operator's windows (the budget's hour and
 * day) pass when the test says. Timers due by the new time fire at once on `advance`.
 */
export class ShiftedClock implements Clock {
  #offset = 0;
  #seq = 0;
  readonly #timers = new Map<number, { due: number; fn: () => void; handle: NodeJS.Timeout }>();

  now(): number {
    return Date.now() + this.#offset;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    const handle = setTimeout(() => {
      this.#timers.delete(id);
      fn();
    }, ms);
    this.#timers.set(id, { due: this.now() + ms, fn, handle });
    return id;
  }

  clearTimeout(id: unknown): void {
    const timer = this.#timers.get(id as number);
    if (!timer) return;
    clearTimeout(timer.handle);
    this.#timers.delete(id as number);
  }

  advance(ms: number): void {
    this.#offset += ms;
    for (const [id, timer] of [...this.#timers]) {
      if (timer.due > this.now()) continue;
      clearTimeout(timer.handle);
      this.#timers.delete(id);
      timer.fn();
    }
  }
}
