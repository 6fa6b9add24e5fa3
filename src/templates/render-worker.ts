import { parentPort } from 'node:worker_threads';
import type { RenderInput } from './context.ts';
import { renderScaffold } from './scaffold.ts';

/** Runs one render off the main thread, so a runaway template can be stopped from outside. */
parentPort?.once('message', (input: RenderInput) => {
  try {
    // Copied, not transferred: small Buffers share Node's pool, which cannot be transferred.
    parentPort?.postMessage({ entries: [...renderScaffold(input)] });
  } catch (err) {
    parentPort?.postMessage({ error: { name: (err as Error).name, message: (err as Error).message } });
  }
});
