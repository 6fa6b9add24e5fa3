import { Worker } from 'node:worker_threads';
import type { RenderInput } from './context.ts';
import { ParameterError } from './parameters.ts';
import { RenderError } from './render.ts';
import type { FileTree } from './tree.ts';

export type IsolationLimits = { timeoutMs: number; maxHeapMb: number };

const DEFAULT_LIMITS: IsolationLimits = { timeoutMs: 10_000, maxHeapMb: 256 };

type Reply = { entries: [string, Uint8Array][] } | { error: { name: string; message: string } };

/**
 * renderScaffold in a worker thread with a deadline and a heap cap. The sandbox stops a
 * template from reaching the process, but not from looping (`range(1e9)` nested thrice):
 * the operator renders templates anyone may apply, so a render must be stoppable
 * without taking the controller down with it.
 */
export function renderScaffoldIsolated(input: RenderInput, limits: Partial<IsolationLimits> = {}): Promise<FileTree> {
  const { timeoutMs, maxHeapMb } = { ...DEFAULT_LIMITS, ...limits };
  const worker = new Worker(new URL('./render-worker.ts', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } });
  return new Promise<FileTree>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new RenderError(`rendering took longer than ${timeoutMs / 1000}s and was stopped`));
      void worker.terminate();
    }, timeoutMs);
    const settle = () => clearTimeout(timer);
    worker.once('message', (reply: Reply) => {
      settle();
      void worker.terminate();
      if ('error' in reply) {
        reject(reply.error.name === 'ParameterError' ? new ParameterError(reply.error.message) : new RenderError(reply.error.message));
      } else {
        resolve(new Map(reply.entries.map(([path, bytes]) => [path, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)])));
      }
    });
    worker.once('error', (err) => {
      settle();
      reject(new RenderError(`rendering failed: ${err.message}`));
    });
    worker.postMessage(input);
  });
}
