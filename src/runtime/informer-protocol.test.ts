import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient, type KubeObject } from '../kube/client.ts';
import { createLogger } from '../observability/logger.ts';
import { Informer } from './informer.ts';

// The list/watch protocol edge cases a real API server produces only rarely (410 Gone on a
// watch, a failing list, a clean end of a watch), scripted on a plain local HTTP server so
// the informer's reaction to each is checked deterministically. Normal operation is
// covered against the real API server in test/integration/runtime.

type WatchScript = (res: ServerResponse) => void;
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

const cm = (name: string, rv: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', resourceVersion: rv } });
const send = (res: ServerResponse, type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);

async function scripted(lists: (KubeObject[] | number)[], watches: WatchScript[], backoff = { baseMs: 10, maxMs: 50 }, logger = createLogger({ level: 'silent' })) {
  const requests: string[] = [];
  /** When each request arrived, and when each scripted watch was ended by the server. */
  const times: number[] = [];
  const watchEnded: number[] = [];
  /** The informer's own account of itself as each request arrived (the server runs in this process). */
  const statusAt: ReturnType<Informer['status']>[] = [];
  let listRv = 100;
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/api/v1') {
      res.end(JSON.stringify({ resources: [{ name: 'configmaps', kind: 'ConfigMap', namespaced: true }] }));
      return;
    }
    if (url.searchParams.get('watch') === 'true') {
      requests.push(`watch rv=${url.searchParams.get('resourceVersion')} bookmarks=${url.searchParams.get('allowWatchBookmarks')}`);
      times.push(Date.now());
      const script = watches.shift();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.once('finish', () => watchEnded.push(Date.now()));
      if (script) script(res); // else: hold the watch open, quiet
      return;
    }
    requests.push('list');
    times.push(Date.now());
    statusAt.push(informer.status());
    const next = lists.shift() ?? [];
    if (typeof next === 'number') {
      res.writeHead(next, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: next, message: 'scripted failure' }));
      return;
    }
    listRv++;
    res.end(JSON.stringify({ items: next, metadata: { resourceVersion: String(listRv) } }));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
  });
  const informer = new Informer({
    client: new KubeClient(kc, { qps: 1000, burst: 1000 }), logger,
    apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', backoff,
  });
  const events: string[] = [];
  informer.addHandlers({
    add: (o) => events.push(`add ${o.metadata.name}`),
    update: (o) => events.push(`update ${o.metadata.name}`),
    delete: (o) => events.push(`delete ${o.metadata.name}`),
  });
  return { informer, requests, times, watchEnded, statusAt, events };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

describe('Informer protocol handling', () => {
  it('resumes a cleanly ended watch from the last resourceVersion, without relisting, and asks for bookmarks', async () => {
    const { informer, requests, events } = await scripted([[cm('a', '5')]], [
      (res) => { send(res, 'ADDED', cm('b', '102')); send(res, 'BOOKMARK', { metadata: { resourceVersion: '110' } }); res.end(); },
    ]);
    informer.start();
    await until(() => requests.length >= 3);
    await informer.stop();
    expect(requests.slice(0, 3)).toEqual(['list', 'watch rv=101 bookmarks=true', 'watch rv=110 bookmarks=true']);
    expect(events).toEqual(['add a', 'add b']);
  });

  it('relists at once on 410 Gone, reporting deletions it missed, and stays healthy', async () => {
    const { informer, requests, events } = await scripted([[cm('a', '5'), cm('b', '6')], [cm('b', '7')]], [
      (res) => { send(res, 'ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' }); res.end(); },
    ]);
    informer.start();
    await until(() => requests.length >= 4);
    expect(informer.healthy()).toBe(true);
    await informer.stop();
    expect(requests.slice(0, 4)).toEqual(['list', 'watch rv=101 bookmarks=true', 'list', 'watch rv=102 bookmarks=true']);
    expect(events).toEqual(['add a', 'add b', 'update b', 'delete a']);
  });

  it('retries a failing list with backoff, unhealthy and unsynced meanwhile, then recovers', async () => {
    const { informer, requests } = await scripted([500, 503, [cm('a', '5')]], []);
    informer.start();
    await until(() => requests.filter((r) => r === 'list').length >= 2);
    expect(informer.healthy()).toBe(false);
    expect(informer.status()).toMatchObject({ synced: false, lastError: expect.stringContaining('scripted failure') });
    await informer.waitForSync();
    expect(informer.healthy()).toBe(true);
    expect(informer.get('a', 'ns')).toBeDefined();
    await informer.stop();
  });

  it('treats any other error event as a failure: unhealthy, then relists after backoff', async () => {
    // A backoff long enough to tell from "at once" (the 410 case above): 400 ms, less at most 20% jitter.
    const { informer, requests, times, watchEnded, statusAt } = await scripted([[cm('a', '5')], [cm('a', '5')]], [
      (res) => { send(res, 'ERROR', { kind: 'Status', code: 500, message: 'etcd hiccup' }); res.end(); },
    ], { baseMs: 400, maxMs: 400 });
    informer.start();
    await until(() => requests.length >= 4);
    // Between the error and the relist's answer: unhealthy, saying why.
    expect(statusAt[1]).toMatchObject({ synced: true, healthy: false, lastError: expect.stringContaining('etcd hiccup') });
    expect(informer.healthy()).toBe(true);
    await informer.stop();
    // Not a resume from the last resourceVersion (a watch), a relist; then a watch from the new list.
    expect(requests.slice(0, 4)).toEqual(['list', 'watch rv=101 bookmarks=true', 'list', 'watch rv=102 bookmarks=true']);
    expect(times[2]! - watchEnded[0]!).toBeGreaterThanOrEqual(300);
  });

  it('backs off from the start again after a watch that ended cleanly, however many failures came before', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', destination: new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } }) });
    // Three failed lists (an outage), then a watch that lasts its term and delivers nothing (a
    // quiet kind, no bookmark yet), then a failing watch: its backoff must be the first step's.
    const { informer, requests } = await scripted([500, 500, 500, [cm('a', '5')], [cm('a', '5')]], [
      (res) => res.end(),
      // Dropped before any event (an event, even an error, would itself prove the stream works).
      (res) => { res.flushHeaders(); setTimeout(() => res.socket?.destroy(), 20); },
    ], { baseMs: 10, maxMs: 10_000 }, logger);
    informer.start();
    await until(() => requests.filter((r) => r === 'list').length >= 5);
    await informer.stop();
    const failures = lines.map((l) => JSON.parse(l) as { msg: string; failures?: number; err?: { message?: string } })
      .filter((l) => l.msg === 'informer failed; restarting with a relist');
    expect(failures.map((f) => f.failures)).toEqual([1, 2, 3, 1]);
  });

  it('hands every object to update once it relisted after a failure, changed or not, so work held back by the outage runs now', async () => {
    const { informer, requests, events } = await scripted([[cm('a', '5'), cm('b', '6')], [cm('a', '5'), cm('b', '7')]], [
      (res) => { res.flushHeaders(); setTimeout(() => res.socket?.destroy(), 20); },
    ]);
    informer.start();
    await until(() => requests.filter((r) => r === 'list').length >= 2 && informer.healthy());
    await informer.stop();
    // b changed meanwhile; a did not, and is handed over too.
    expect(events.sort()).toEqual(['add a', 'add b', 'update a', 'update b']);
  });
});
