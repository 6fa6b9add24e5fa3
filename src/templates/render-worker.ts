import { parentPort } from 'node:worker_threads';
import type { RenderInput } from './context.ts';
import { renderScaffold } from './scaffold.ts';

/** Runs renders off the main thread, one at a time, so a runaway template can be stopped from outside. */
parentPort?.on('message', ({ id, input }: { id: number; input: RenderInput }) => {
  try {
    // Copied, not transferred: small Buffers share Node's pool, which cannot be transferred.
    parentPort?.postMessage({ id, entries: [...renderScaffold(input)] });
  } catch (err) {
    parentPort?.postMessage({ id, error: { name: (err as Error).name, message: (err as Error).message } });
  }
});
