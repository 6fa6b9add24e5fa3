import { afterAll, describe, expect, it } from 'vitest';
import { KUBERNETES_VERSION } from '../../../cluster/paths.ts';
import { clusterUp, readState } from '../../../cluster/up.ts';
import { isLocalCluster, kubectl, uniqueName, waitForGone, waitForObject } from '../../support/cluster.ts';

const namespaces: string[] = [];

async function namespace(prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  const r = await kubectl(['create', 'namespace', name]);
  expect(r.stderr).toBe('');
  namespaces.push(name);
  return name;
}

async function apply(manifest: object): Promise<void> {
  const r = await kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

afterAll(async () => {
  if (namespaces.length) await kubectl(['delete', 'namespace', '--wait=false', '--ignore-not-found', ...namespaces]);
});

describe('the local control plane', () => {
  it('answers /readyz and reports the pinned server version', async () => {
    const ready = await kubectl(['get', '--raw', '/readyz']);
    expect(ready.stdout.trim()).toBe('ok');
    const version = await kubectl(['version', '-o', 'json']);
    const parsed = JSON.parse(version.stdout);
    // Against a foreign cluster (KUBECONFIG) only the client version is ours to pin.
    expect(parsed.clientVersion.gitVersion).toBe(KUBERNETES_VERSION);
    if (isLocalCluster()) expect(parsed.serverVersion.gitVersion).toBe(KUBERNETES_VERSION);
  });

  it.runIf(isLocalCluster())('has a Service range the size of a real cluster\'s (kubeadm\'s 10.96.0.0/12)', async () => {
    const r = await kubectl(['get', 'service', 'kubernetes', '-n', 'default', '-o', 'jsonpath={.spec.clusterIP}']);
    expect(r.stdout).toBe('10.96.0.1');
    const cidrs = await kubectl(['get', 'servicecidrs', '-o', 'jsonpath={.items[*].spec.cidrs[*]}']);
    expect(cidrs.stdout.trim()).toBe('10.96.0.0/12');
  });

  it('fills a ResourceQuota status.used through the real quota controller', async () => {
    const ns = await namespace('quota');
    await apply({
      apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'limits', namespace: ns },
      spec: { hard: { configmaps: '10', secrets: '10', 'requests.memory': '1Gi' } },
    });
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one', namespace: ns }, data: { a: 'b' } });
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'two', namespace: ns }, data: { a: 'b' } });
    // kube-root-ca.crt (published by its own controller) counts too.
    const quota = await waitForObject<any>(['resourcequota', 'limits', '-n', ns],
      (q) => q.status?.used?.configmaps === '3', 'quota to count three ConfigMaps');
    expect(quota.status.hard).toEqual({ configmaps: '10', secrets: '10', 'requests.memory': '1Gi' });
    expect(quota.status.used['requests.memory']).toBe('0');
  });

  it('deletes a namespace with objects in it completely', async () => {
    const ns = await namespace('nsdel');
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: ns }, data: { k: 'v' } });
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: ns }, stringData: { k: 'v' } });
    await apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace: ns }, spec: { ports: [{ port: 80 }] } });
    await apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa', namespace: ns } });
    expect((await kubectl(['delete', 'namespace', ns, '--wait=false'])).code).toBe(0);
    await waitForGone(['namespace', ns], `namespace ${ns} to be deleted`, 120_000);
  });

  it('garbage-collects an object whose owner is deleted', async () => {
    const ns = await namespace('gc');
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner', namespace: ns } });
    const owner = JSON.parse((await kubectl(['get', 'configmap', 'owner', '-n', ns, '-o', 'json'])).stdout);
    await apply({
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: 'owned', namespace: ns, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid }] },
    });
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bystander', namespace: ns } });
    expect((await kubectl(['delete', 'configmap', 'owner', '-n', ns, '--cascade=background'])).code).toBe(0);
    await waitForGone(['configmap', 'owned', '-n', ns], 'the owned ConfigMap to be collected');
    expect((await kubectl(['get', 'configmap', 'bystander', '-n', ns, '-o', 'name'])).stdout.trim()).toBe('configmap/bystander');
  });

  it.runIf(isLocalCluster())('finds the running cluster on a second cluster:up and starts nothing', async () => {
    const before = readState();
    expect(before?.pids['kube-apiserver']).toBeGreaterThan(0);
    await clusterUp(() => undefined);
    expect(readState()).toEqual(before);
  });
});
