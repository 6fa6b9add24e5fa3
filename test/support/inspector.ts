/**
 * The Chrome DevTools Protocol of a process started with `--inspect=127.0.0.1:<port>`:
 * enough to tell a leak from garbage not yet collected. The heap a process reports climbs
 * between collections, and V8 collects the old generation only under pressure, so a
 * sample without a forced collection says little; here the collection is forced, from
 * outside, with nothing added to the operator for it.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

type Reply = { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message: string } };

export class Inspector {
  readonly #ws: WebSocket;
  #next = 1;
  readonly #waiting = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  readonly #listeners = new Set<(m: Reply) => void>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener('message', (e) => {
      const m = JSON.parse(String(e.data)) as Reply;
      if (m.id !== undefined) {
        const w = this.#waiting.get(m.id);
        this.#waiting.delete(m.id);
        if (m.error) w?.reject(new Error(m.error.message));
        else w?.resolve(m.result ?? {});
      } else for (const l of this.#listeners) l(m);
    });
    ws.addEventListener('close', () => {
      for (const w of this.#waiting.values()) w.reject(new Error('the inspected process closed the connection'));
      this.#waiting.clear();
    });
  }

  /** Connects to the first target the inspector on `port` lists. */
  static async connect(port: number): Promise<Inspector> {
    const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json() as { webSocketDebuggerUrl: string }[];
    const url = targets[0]?.webSocketDebuggerUrl;
    if (!url) throw new Error(`no inspector target on port ${port}`);
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error(`could not connect to the inspector at ${url}`)), { once: true });
    });
    return new Inspector(ws);
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#next++;
    const reply = new Promise<Record<string, unknown>>((resolve, reject) => this.#waiting.set(id, { resolve, reject }));
    this.#ws.send(JSON.stringify({ id, method, params }));
    return reply;
  }

  /** A full collection, then the heap in use: the live set, in bytes. */
  async liveHeap(): Promise<number> {
    await this.send('HeapProfiler.collectGarbage');
    const r = await this.send('Runtime.evaluate', { expression: 'process.memoryUsage().heapUsed', returnByValue: true });
    return Number((r.result as { value: unknown }).value);
  }

  /** Writes a heap snapshot (loadable in Chrome's DevTools) to `file`. */
  async snapshot(file: string): Promise<void> {
    const out = createWriteStream(file);
    const onChunk = (m: Reply) => {
      if (m.method === 'HeapProfiler.addHeapSnapshotChunk') out.write((m.params as { chunk: string }).chunk);
    };
    this.#listeners.add(onChunk);
    try {
      await this.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    } finally {
      this.#listeners.delete(onChunk);
      out.end();
      await once(out, 'close');
    }
  }

  close(): void {
    this.#ws.close();
  }
}
