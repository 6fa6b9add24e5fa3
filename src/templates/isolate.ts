import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { RenderInput } from './context.ts';
import { ParameterError } from './parameters.ts';
import { RenderError } from './render.ts';
import type { FileTree } from './tree.ts';

export type IsolationLimits = { timeoutMs: number; maxHeapMb: number };

const DEFAULT_LIMITS: IsolationLimits = { timeoutMs: 10_000, maxHeapMb: 256 };
const YOUNG_GENERATION_MB = 8;
/** An idle render worker is let go after this long. */
const IDLE_MS = 30_000;

type Reply = { id: number } & ({ entries: [string, Uint8Array][] } | { error: { name: string; message: string } });
type Job = { id: number; input: RenderInput; timeoutMs: number; resolve(tree: FileTree): void; reject(err: Error): void };

/**
 * Long-lived render workers, one per core at most: a render is CPU-bound, so more would
 * only wait, and starting a worker per render (an isolate, its modules) cost more than
 * most renders and held a heap each while Startups were provisioned side by side. A
 * worker that overran its deadline or its heap is terminated and replaced by a fresh
 * one on the next render; the others carry on.
 */
class RenderPool {
  readonly #maxHeapMb: number;
  readonly #size = Math.max(1, availableParallelism());
  readonly #idle: Worker[] = [];
  readonly #idleTimers = new Map<Worker, NodeJS.Timeout>();
  readonly #queue: Job[] = [];
  #workers = 0;
  #ids = 0;

  constructor(maxHeapMb: number) {
    this.#maxHeapMb = maxHeapMb;
  }

  render(input: RenderInput, timeoutMs: number): Promise<FileTree> {
    return new Promise<FileTree>((resolve, reject) => {
      this.#queue.push({ id: ++this.#ids, input, timeoutMs, resolve, reject });
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const worker = this.#idle.pop() ?? (this.#workers < this.#size ? this.#spawn() : undefined);
      if (!worker) return;
      clearTimeout(this.#idleTimers.get(worker));
      this.#idleTimers.delete(worker);
      this.#run(worker, this.#queue.shift()!);
    }
  }

  #spawn(): Worker {
    this.#workers++;
    // A small young generation: a render's garbage is short-lived either way, and the
    // pages a worker's heap grew to stay in the process's RSS after the worker has gone
    // (measured: 100 renders on two workers left 244 MiB of RSS at the default, 182 at 8).
    const resourceLimits = { maxOldGenerationSizeMb: this.#maxHeapMb, maxYoungGenerationSizeMb: YOUNG_GENERATION_MB };
    const worker = new Worker(new URL('./render-worker.ts', import.meta.url), { resourceLimits });
    worker.once('exit', () => {
      this.#workers--;
      const i = this.#idle.indexOf(worker);
      if (i >= 0) this.#idle.splice(i, 1);
      clearTimeout(this.#idleTimers.get(worker));
      this.#idleTimers.delete(worker);
      this.#dispatch();
    });
    return worker;
  }

  #run(worker: Worker, job: Job): void {
    // A busy worker keeps the process alive; an idle one must not hold a CLI open.
    worker.ref();
    let done = false;
    const finish = (retire: boolean) => {
      done = true;
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (retire) {
        void worker.terminate();
      } else {
        worker.unref();
        this.#idle.push(worker);
        // Renders come in bursts (Startups applied together, a template changed); between
        // them a worker's heap is memory the operator holds for nothing.
        const timer = setTimeout(() => void worker.terminate(), IDLE_MS);
        timer.unref();
        this.#idleTimers.set(worker, timer);
        this.#dispatch();
      }
    };
    const timer = setTimeout(() => {
      finish(true);
      job.reject(new RenderError(`rendering took longer than ${job.timeoutMs / 1000}s and was stopped`));
    }, job.timeoutMs);
    const onMessage = (reply: Reply) => {
      if (reply.id !== job.id || done) return;
      finish(false);
      if ('error' in reply) {
        job.reject(reply.error.name === 'ParameterError' ? new ParameterError(reply.error.message) : new RenderError(reply.error.message));
      } else {
        job.resolve(new Map(reply.entries.map(([path, bytes]) => [path, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)])));
      }
    };
    const onError = (err: Error) => {
      if (done) return;
      finish(true);
      job.reject(new RenderError(`rendering failed: ${err.message}`));
    };
    const onExit = (code: number) => onError(new Error(`the render worker exited with code ${code}`));
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage({ id: job.id, input: job.input });
  }
}

const pools = new Map<number, RenderPool>();

/**
 * renderScaffold in a worker thread with a deadline and a heap cap. The sandbox stops a
 * template from reaching the process, but not from looping (`range(1e9)` nested thrice):
 * the operator renders templates anyone may apply, so a render must be stoppable
 * without taking the controller down with it.
 */
export function renderScaffoldIsolated(input: RenderInput, limits: Partial<IsolationLimits> = {}): Promise<FileTree> {
  const { timeoutMs, maxHeapMb } = { ...DEFAULT_LIMITS, ...limits };
  let pool = pools.get(maxHeapMb);
  if (!pool) pools.set(maxHeapMb, (pool = new RenderPool(maxHeapMb)));
  return pool.render(input, timeoutMs);
}
