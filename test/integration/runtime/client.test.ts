import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { kubectl, uniqueName } from '../../support/cluster.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { isAlreadyExists, isConflict, isInvalid, isNotFound, retryOnConflict } from '../../../src/kube/errors.ts';
import { namespaceFixture } from './helpers.ts';

const { client, metrics, ns } = namespaceFixture('rt-client');
const providers: string[] = [];
afterAll(async () => {
  if (providers.length) await kubectl(['delete', '--ignore-not-found', '--wait=false', ...providers.map((p) => `aiprovider/${p}`)]);
});

type ConfigMap = KubeObject & { data?: Record<string, string> };
const cm = (data: Record<string, string>): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied', namespace: ns.name, labels: { 'app.kubernetes.io/managed-by': 'startup-factory' } }, data });

describe('KubeClient against the API server', () => {
  it('server-side applies with our field manager; an identical apply changes nothing', async () => {
    const first = await client.serverSideApply(cm({ a: '1' }));
    expect(first.metadata.resourceVersion).toBeTruthy();
    const again = await client.serverSideApply(cm({ a: '1' }));
    // resourceVersion is opaque: equality is the only comparison allowed, and it proves no write happened.
    expect(again.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    const managers = (again.metadata as { managedFields?: { manager: string; operation: string }[] }).managedFields ?? [];
    expect(managers).toContainEqual(expect.objectContaining({ manager: 'startup-factory', operation: 'Apply' }));
    const changed = await client.serverSideApply(cm({ a: '2' }));
    expect(changed.metadata.resourceVersion).not.toBe(first.metadata.resourceVersion);
    expect(changed.data).toEqual({ a: '2' });
  });

  it('takes back a field someone edited by hand (force), reverting the drift', async () => {
    await client.serverSideApply(cm({ a: '3' }));
    const edit = await kubectl(['-n', ns.name, 'patch', 'configmap', 'applied', '--type=merge', '-p', '{"data":{"a":"hand-edited"}}']);
    expect(edit.code).toBe(0);
    const reverted = await client.serverSideApply(cm({ a: '3' }));
    expect(reverted.data).toEqual({ a: '3' });
  });

  it('writes status through the status subresource by server-side apply', async () => {
    const name = uniqueName('rt-provider');
    providers.push(name);
    await client.create({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider', metadata: { name }, spec: { type: 'offline', model: 'offline-v1' } });
    const condition = { type: 'Ready', status: 'True', reason: 'Offline', message: 'offline provider needs no key', lastTransitionTime: '2026-11-25T12:00:00Z', observedGeneration: 1 };
    const applied = await client.applyStatus<KubeObject & { status?: { conditions?: unknown[] }; spec?: unknown }>({
      apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider', metadata: { name }, status: { conditions: [condition] },
    });
    expect(applied.status?.conditions).toEqual([condition]);
    expect(applied.spec).toEqual(expect.objectContaining({ type: 'offline' }));
    const again = await client.applyStatus<KubeObject>({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider', metadata: { name }, status: { conditions: [condition] } });
    expect(again.metadata.resourceVersion).toBe(applied.metadata.resourceVersion);
  });

  it('classifies errors, and retryOnConflict re-reads after a stale write', async () => {
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns.name, name: 'applied' };
    expect(isNotFound(await client.get({ ...ref, name: 'missing' }).catch((e: unknown) => e))).toBe(true);
    const stale = await client.get<ConfigMap>(ref);
    await client.replace({ ...stale, data: { a: 'fresh' } });
    expect(isConflict(await client.replace({ ...stale, data: { a: 'stale' } }).catch((e: unknown) => e))).toBe(true);
    let attempts = 0;
    const result = await retryOnConflict(async () => {
      attempts++;
      const current = attempts === 1 ? stale : await client.get<ConfigMap>(ref);
      return client.replace({ ...current, data: { a: `attempt-${attempts}` } });
    });
    expect(attempts).toBe(2);
    expect(result.data).toEqual({ a: 'attempt-2' });
    const invalid = await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Not_Valid', namespace: ns.name } }).catch((e: unknown) => e);
    expect(isInvalid(invalid)).toBe(true);
  });

  it('counts every request by verb and code, mutating ones separately, also from typed APIs', async () => {
    const before = client.requestCounts();
    await client.api(CoreV1Api).readNamespace({ name: ns.name });
    await client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns.name, name: 'applied' });
    const after = client.requestCounts();
    expect(after.total - before.total).toBe(2);
    expect(after.mutating).toBe(before.mutating);
    await client.serverSideApply(cm({ a: 'counted' }));
    expect(client.requestCounts().mutating).toBe(before.mutating + 1);
    await client.create(cm({ a: 'only asked' }), { dryRun: true }).catch((e: unknown) => { if (!isAlreadyExists(e)) throw e; });
    expect(client.requestCounts().mutating, 'a dry run stores nothing, so it is not a write').toBe(before.mutating + 1);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/startup_factory_api_requests_total\{verb="create",dry_run="true",code="409"\} \d+/);
    expect(text).toMatch(/startup_factory_api_requests_total\{verb="apply",code="200"\} \d+/);
    expect(text).toMatch(/startup_factory_api_requests_total\{verb="get",code="404"\} \d+/);
    expect(text).toMatch(/startup_factory_api_requests_total\{verb="update",code="409"\} \d+/);
  });
});
