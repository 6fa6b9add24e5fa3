import { afterEach, describe, expect, it } from 'vitest';
import { HttpServer } from './http.ts';
import { Metrics } from './metrics.ts';

let server: HttpServer | undefined;
afterEach(async () => { await server?.close(); server = undefined; });

async function start() {
  const metrics = new Metrics({ defaultMetrics: false });
  server = new HttpServer({ registry: metrics.registry, host: '127.0.0.1', port: 0 });
  const { port } = await server.listen();
  const get = async (path: string) => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: r.status, body: await r.text() };
  };
  return { server, metrics, get };
}

describe('HttpServer', () => {
  it('answers /healthz, and /readyz tells which checks fail', async () => {
    const { server, get } = await start();
    let synced = false;
    server.addReadinessCheck({ name: 'informer startups', check: () => ({ ok: synced, detail: 'not synced' }) });
    expect(await get('/healthz')).toEqual({ status: 200, body: 'ok\n' });
    const notReady = await get('/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body).toContain('informer startups: not synced');
    synced = true;
    expect((await get('/readyz')).status).toBe(200);
  });

  it('serves the registry on /metrics', async () => {
    const { metrics, get } = await start();
    metrics.startups.set({ phase: 'Running' }, 3);
    const r = await get('/metrics');
    expect(r.status).toBe(200);
    expect(r.body).toContain('startup_factory_startups{phase="Running"} 3');
  });

  it('routes mounted prefixes and 404s the rest', async () => {
    const { server, get } = await start();
    server.mount('/dashboard', (_req, res) => { res.end('dash'); });
    expect(await get('/dashboard/startups')).toEqual({ status: 200, body: 'dash' });
    expect((await get('/dashboardx')).status).toBe(404);
    expect((await get('/nope')).status).toBe(404);
  });
});
