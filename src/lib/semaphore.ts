/**
 * Bounds how many holders run at once, first come first served; the bound is read at
 * each acquire, so it follows a setting that changes (an AIProvider's maxConcurrency).
 */
export class Semaphore {
  #held = 0;
  readonly #waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];

  /** Resolves with a release function once a place is free; rejects when `signal` aborts first. */
  async acquire(limit: number, signal?: AbortSignal): Promise<() => void> {
    if (this.#held < limit && this.#waiters.length === 0) {
      this.#held++;
      return this.#releaser(limit);
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject };
      this.#waiters.push(waiter);
      signal?.addEventListener('abort', () => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal.reason);
      }, { once: true });
    });
    return this.#releaser(limit);
  }

  #releaser(limit: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#held <= limit ? this.#waiters.shift() : undefined;
      // The place passes straight to the next waiter, so a newcomer cannot jump the queue.
      if (next) next.resolve();
      else this.#held--;
    };
  }
}
