import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { Metrics } from '../observability/metrics.ts';
import { KubeClient } from './client.ts';
import { isConflict, isNotFound } from './errors.ts';

// A plain local HTTP server standing in for the network only: these tests cover the
// client's own behaviour (throttling, counting, error mapping), not API semantics, which
// the integration tests check against a real API server.
type Handler = (req: IncomingMessage, body: string) => { status: number; body?: unknown; headers?: Record<string, string> };
let server: Server | undefined;

async function serve(handler: Handler, requestTimeoutMs?: number): Promise<{ client: KubeClient; metrics: Metrics; seen: { method: string; url: string; contentType: string; body: string; at: number }[] }> {
  const seen: { method: string; url: string; contentType: string; body: string; at: number }[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, contentType: String(req.headers['content-type'] ?? ''), body, at: Date.now() });
      const out = handler(req, body);
      if (out.status === 0) return; // never answer: a dead connection
      res.writeHead(out.status, { 'content-type': 'application/json', ...out.headers });
      res.end(out.body === undefined ? '' : JSON.stringify(out.body));
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const metrics = new Metrics({ defaultMetrics: false });
  return { client: new KubeClient(kc, { qps: 1000, burst: 1000, metrics, ...(requestTimeoutMs ? { requestTimeoutMs } : {}) }), metrics, seen };
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

const discovery = { resources: [{ name: 'configmaps', kind: 'ConfigMap', namespaced: true }, { name: 'namespaces', kind: 'Namespace', namespaced: false }] };

describe('KubeClient', () => {
  it('resolves paths by discovery once, applies with the apply content type, and counts mutating requests', async () => {
    const { client, seen, metrics } = await serve((req) =>
      req.url === '/api/v1' ? { status: 200, body: discovery } : { status: 200, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } } });
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'ns' }, data: { k: 'v' } };
    await client.serverSideApply(cm);
    await client.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'a', namespace: 'ns' });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /api/v1',
      'PATCH /api/v1/namespaces/ns/configmaps/a?fieldManager=startup-factory&force=true',
      'GET /api/v1/namespaces/ns/configmaps/a',
    ]);
    expect(seen[1]!.contentType).toBe('application/apply-patch+yaml');
    expect(JSON.parse(seen[1]!.body)).toEqual(cm);
    expect(client.requestCounts()).toEqual({ total: 3, mutating: 1 });
    const text = await metrics.registry.metrics();
    expect(text).toContain('startup_factory_api_requests_total{verb="apply",code="200"} 1');
    expect(text).toContain('startup_factory_api_requests_total{verb="get",code="200"} 2');
  });

  it('creates for real unless asked for a dry run', async () => {
    const { client, seen } = await serve((req) =>
      req.url === '/api/v1' ? { status: 200, body: discovery } : { status: 201, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } } });
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'ns' } };
    await client.create(cm, { dryRun: true });
    await client.create(cm);
    expect(seen.slice(1).map((s) => `${s.method} ${s.url}`)).toEqual([
      'POST /api/v1/namespaces/ns/configmaps?fieldManager=startup-factory&dryRun=All',
      'POST /api/v1/namespaces/ns/configmaps?fieldManager=startup-factory',
    ]);
  });

  it('waits out a 429 for its Retry-After, then succeeds', async () => {
    let calls = 0;
    const { client, seen } = await serve(() => (++calls === 1
      ? { status: 429, body: { kind: 'Status', reason: 'TooManyRequests', message: 'slow down' }, headers: { 'retry-after': '1' } }
      : { status: 200, body: { kind: 'NamespaceList', items: [], metadata: { resourceVersion: '9' } } }));
    const result = await client.request<{ metadata: { resourceVersion: string } }>('GET', '/api/v1/namespaces');
    expect(result.metadata.resourceVersion).toBe('9');
    expect(seen).toHaveLength(2);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(900);
  });

  it('maps Status errors to classified ApiErrors', async () => {
    const { client } = await serve((req) => (req.method === 'PUT'
      ? { status: 409, body: { kind: 'Status', reason: 'Conflict', message: 'the object has been modified' } }
      : { status: 404, body: { kind: 'Status', reason: 'NotFound', message: 'namespaces "x" not found' } }));
    await expect(client.request('GET', '/api/v1/namespaces/x')).rejects.toSatisfy(isNotFound);
    const err = await client.request('PUT', '/api/v1/namespaces/x', { body: {} }).catch((e: unknown) => e);
    expect(isConflict(err)).toBe(true);
    expect(String(err)).toContain('the object has been modified');
  });

  it('pages through lists and restores apiVersion and kind on items', async () => {
    const { client } = await serve((req) => {
      if (req.url === '/api/v1') return { status: 200, body: discovery };
      const second = req.url!.includes('continue=next');
      return { status: 200, body: { items: [{ metadata: { name: second ? 'b' : 'a' } }], metadata: { resourceVersion: '7', ...(second ? {} : { continue: 'next' }) } } };
    });
    const list = await client.list('v1', 'Namespace');
    expect(list.items.map((i) => [i.kind, i.metadata.name])).toEqual([['Namespace', 'a'], ['Namespace', 'b']]);
    expect(list.metadata.resourceVersion).toBe('7');
  });

  it('abandons a request the server never answers, after the request timeout', async () => {
    const { client, metrics } = await serve(() => ({ status: 0 }), 200);
    await expect(client.request('GET', '/api/v1/namespaces')).rejects.toThrow();
    expect(await metrics.registry.metrics()).toContain('startup_factory_api_requests_total{verb="list",code="error"} 1');
  });

  it('renews the connections of every client sharing them, failing at once what waits on the old ones when told to abandon them', async () => {
    const { client } = await serve((req) => (req.url!.endsWith('/stuck') ? { status: 0 } : { status: 200, body: { kind: 'Namespace', metadata: { name: 'x' } } }));
    let connections = 0;
    server!.on('connection', () => { connections++; });
    // The gateway's client: a limiter of its own, the operator's connections.
    const gateway = new KubeClient(client.kubeConfig, { qps: 1000, burst: 1000, connections: client.connections });
    await gateway.request('GET', '/api/v1/namespaces/x');
    const stuck = gateway.request('GET', '/api/v1/namespaces/stuck').then(() => 'answered', (err: unknown) => err);
    await new Promise((r) => setTimeout(r, 200));
    const before = connections;

    client.renewConnections('abandon');
    const outcome = await Promise.race([stuck, new Promise((r) => setTimeout(() => r('still waiting'), 10_000))]);
    expect(outcome).toBeInstanceOf(Error);
    await gateway.request('GET', '/api/v1/namespaces/x');
    expect(connections).toBe(before + 1);
  });
});
