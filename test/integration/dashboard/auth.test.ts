/**
 * The dashboard obeys the cluster's RBAC by default: a token the API server accepts
 * (TokenReview) whose user may list Startups (SubjectAccessReview), or nothing. Tokens
 * are real ServiceAccount tokens from the TokenRequest API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { kubectl, uniqueName, waitFor } from '../../support/cluster.ts';
import { apply, startFactory, type TestFactory } from '../../support/factory.ts';
import { applyProvider } from '../../support/pipeline.ts';

let factory: TestFactory;
let base: string;
let viewerToken: string;
let strangerToken: string;
const role = uniqueName('sf-dash-viewer');
const secretValue = `sk-dashboard-${uniqueName('secret')}`;

async function token(sa: string): Promise<string> {
  const { code, stdout, stderr } = await kubectl(['create', 'token', sa, '-n', factory.namespace, '--duration', '1h']);
  if (code !== 0) throw new Error(stderr);
  return stdout.trim();
}

const get = (path: string, headers: Record<string, string> = {}) => fetch(new URL(path, base), { headers, redirect: 'manual' });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

/** Requests the operator's clients have sent to the API server, from its own metrics. */
async function apiRequests(): Promise<number> {
  const metric = await factory.operator.manager.metrics.registry.getSingleMetric('startup_factory_api_requests_total')?.get();
  return (metric?.values ?? []).reduce((n, v) => n + v.value, 0);
}

beforeAll(async () => {
  factory = await startFactory(['--leader-elect=false']);
  base = factory.operator.dashboard!.url();
  await apply([stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'viewer', namespace: factory.namespace } }),
    stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'stranger', namespace: factory.namespace } }),
    stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: role }, rules: [{ apiGroups: ['startupfactory.dev'], resources: ['startups'], verbs: ['get', 'list', 'watch'] }] }),
    stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: role },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [{ kind: 'ServiceAccount', name: 'viewer', namespace: factory.namespace }],
    })]);
  // A provider with a key, whose value must appear nowhere the dashboard answers.
  await applyProvider(factory, { name: uniqueName('keyed'), type: 'openai-compatible', baseURL: 'http://127.0.0.1:9/v1', key: secretValue, input: '1.00', output: '2.00' });
  [viewerToken, strangerToken] = await Promise.all([token('viewer'), token('stranger')]);
  await waitFor('the provider to be judged', async () => factory.operator.dashboard!.url() && (await get('/api/providers', bearer(viewerToken)).then((r) => r.json()) as { items: { ready?: unknown }[] }).items[0]?.ready);
});

afterAll(async () => {
  await kubectl(['delete', 'clusterrolebinding,clusterrole', role, '--ignore-not-found']);
  await factory?.cleanup();
});

describe('dashboard access (--dashboard-auth=token, the default)', () => {
  it('serves the page shell to anyone (it holds no data) but no data without a token', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const res = await get('/api/startups');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(await res.json()).toMatchObject({ error: expect.stringMatching(/bearer token is required/) });
    expect((await get('/api/stream')).status).toBe(401);
  });

  it('refuses a token the API server does not accept', async () => {
    const res = await get('/api/startups', bearer('not-a-token'));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'the API server does not accept this token' });
    // A real token with one character changed is no better.
    expect((await get('/api/startups', bearer(`${viewerToken.slice(0, -2)}xx`))).status).toBe(401);
  });

  it('refuses a valid token whose user may not list Startups, naming the user', async () => {
    const res = await get('/api/startups', bearer(strangerToken));
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toContain(`system:serviceaccount:${factory.namespace}:stranger may not list startups.startupfactory.dev`);
  });

  it('serves a token whose user may list Startups: the API, the stream and the session', async () => {
    const res = await get('/api/session', bearer(viewerToken));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ user: `system:serviceaccount:${factory.namespace}:viewer`, auth: 'token' });
    const providers = await get('/api/providers', bearer(viewerToken));
    expect(providers.status).toBe(200);
    const text = await providers.text();
    expect(text).toContain('"type":"openai-compatible"');
    // No secret is ever rendered: not the key, not even where it lives.
    expect(text).not.toContain(secretValue);
    expect(text).not.toContain('secretRef');

    const controller = new AbortController();
    const stream = await fetch(new URL('/api/stream', base), { headers: bearer(viewerToken), signal: controller.signal });
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = stream.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toMatch(/event: snapshot\ndata: \{"at":/);
    controller.abort();
  });

  it('signs in through the form into an HttpOnly cookie, and refuses a sign-in posted from another site', async () => {
    const form = { method: 'POST', redirect: 'manual' as const, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    const ok = await fetch(new URL('/login', base), { ...form, body: new URLSearchParams({ token: viewerToken }) });
    expect(ok.status).toBe(303);
    const cookie = ok.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^sf_token=.+; HttpOnly; SameSite=Strict; Path=\//);
    const session = await get('/api/session', { cookie: cookie.split(';')[0]! });
    expect(session.status).toBe(200);

    const refused = await fetch(new URL('/login', base), { ...form, headers: { ...form.headers, origin: 'https://evil.example' }, body: new URLSearchParams({ token: viewerToken }) });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('set-cookie')).toBeNull();
    const bad = await fetch(new URL('/login', base), { ...form, body: new URLSearchParams({ token: strangerToken }) });
    expect(bad.status).toBe(303);
    expect(bad.headers.get('location')).toMatch(/^\/#\/login\?error=/);
    expect(bad.headers.get('set-cookie')).toBeNull();
  });

  it('is read-only', async () => {
    const res = await fetch(new URL('/api/startups', base), { method: 'DELETE', headers: bearer(viewerToken) });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });

  it('costs the API server one review per token, not one request per viewer: 100 open streams', async () => {
    // Warm: this token's decision is remembered (the test before reviewed it).
    await get('/api/session', bearer(viewerToken));
    const before = await apiRequests();
    const controllers = Array.from({ length: 100 }, () => new AbortController());
    const streams = await Promise.all(controllers.map((c) => fetch(new URL('/api/stream', base), { headers: bearer(viewerToken), signal: c.signal })));
    expect(streams.every((s) => s.status === 200)).toBe(true);
    await Promise.all(streams.map((s) => s.body!.getReader().read()));
    expect(factory.operator.dashboard!.viewers()).toBeGreaterThanOrEqual(100);
    // At most one more review pair, should the remembered decision have expired meanwhile.
    expect(await apiRequests() - before).toBeLessThanOrEqual(2);
    for (const c of controllers) c.abort();
  });
});
