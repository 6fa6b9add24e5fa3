import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, uniqueName, waitFor, waitForGone } from '../../support/cluster.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { apply, condition, isProvisioned, settled, startFactory, type TestFactory } from '../../support/factory.ts';

// A pool of four node ports, private to this file: one NodePort Startup (three services)
// fits, a second cannot until the first is gone.
const POOL = { first: 30010, last: 30013 };
let factory: TestFactory;

beforeAll(async () => {
  // No leader election and no template controller here: Lease renewals and template
  // statuses are writes too, and this file counts the Startup controller's.
  factory = await startFactory(
    ['--leader-elect', 'false', '--node-port-range', `${POOL.first}-${POOL.last}`, '--capacity-cpu', '8', '--capacity-memory', '16Gi'],
    { startupControllerOnly: true },
  );
});
afterAll(async () => {
  await factory?.cleanup();
});

type Json = any;
const getIn = (kind: string, name: string, namespace: string): Promise<Json> => factory.client.get({ apiVersion: kind === 'NetworkPolicy' ? 'networking.k8s.io/v1' : 'v1', kind, name, namespace });
const mutatingWrites = () => factory.operator.manager.client.requestCounts().mutating;

async function reconcileCount(): Promise<number> {
  const metric = await factory.operator.manager.metrics.reconcileTotal.get();
  return metric.values.filter((v) => v.labels.controller === 'startup').reduce((n, v) => n + v.value, 0);
}

describe('Startup provisioning', () => {
  const first = uniqueName('su');
  const ns = `startup-${first}`;

  it('provisions a Startup with every object present and correct, and waits for its pipeline to be Ready', async () => {
    await apply([factory.manifest(first, { expose: 'NodePort', resources: { memory: '512Mi', cpu: '500m', storage: '1Gi' } })]);
    const startup = await waitFor(`${first} provisioned`, async () => { const s = await factory.get(first); return isProvisioned(s) && s; });

    expect(startup.status).toMatchObject({ phase: 'Running', namespace: ns, observedGeneration: startup.metadata.generation });
    for (const type of ['Admitted', 'Provisioned', 'TemplateRendered']) expect(condition(startup, type)?.status).toBe('True');
    // No pipeline controller runs in this file: the Startup is provisioned and waits for it.
    expect(condition(startup, 'Ready')).toMatchObject({ status: 'False', reason: 'PipelinePending' });
    expect(condition(startup, 'Reconciling')).toMatchObject({ status: 'True', reason: 'PipelinePending' });
    expect(condition(startup, 'Stalled')?.status).toBe('False');
    const allocation = startup.status!.allocation!;
    expect(allocation.services?.map((s) => [s.name, s.port])).toEqual([['frontend', 3000], ['api', 8000], ['db', 5432]]);
    const ports = allocation.services!.map((s) => s.nodePort!);
    expect(new Set(ports).size).toBe(3);
    for (const p of ports) expect(p >= POOL.first && p <= POOL.last).toBe(true);
    expect(allocation.nodePorts).toEqual([...ports].sort((a, b) => a - b));
    expect(allocation.databaseName).toBe(first.replace(/-/g, '_').replace(/^(?=[^a-z])/, 'db_'));

    const owner = { kind: 'Startup', name: first, uid: startup.metadata.uid, controller: true, blockOwnerDeletion: true };
    const namespace = await getIn('Namespace', ns, '');
    expect(namespace.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'startup-factory', 'startupfactory.dev/startup': first, 'pod-security.kubernetes.io/enforce': 'restricted',
    });
    expect(namespace.metadata.ownerReferences).toEqual([expect.objectContaining(owner)]);

    const quota = await getIn('ResourceQuota', 'startup-quota', ns);
    expect(quota.spec.hard).toMatchObject({
      'requests.memory': '512Mi', 'limits.memory': '512Mi', 'requests.cpu': '500m', 'limits.cpu': '500m', 'requests.storage': '1Gi', 'services.nodeports': '3',
    });
    expect(quota.metadata.ownerReferences).toEqual([expect.objectContaining(owner)]);
    const limits = await getIn('LimitRange', 'startup-defaults', ns);
    expect(limits.spec.limits[0]).toMatchObject({ type: 'Container', default: { cpu: '125m', memory: '128Mi' }, defaultRequest: { cpu: '62m', memory: '64Mi' } });
    const policy = await getIn('NetworkPolicy', 'startup-isolation', ns);
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.egress).toHaveLength(3);
    const account = await getIn('ServiceAccount', 'startup-tasks', ns);
    expect(account.automountServiceAccountToken).toBe(false);
    for (const s of allocation.services!) {
      const service = await getIn('Service', s.name, ns);
      expect(service.spec).toMatchObject({ type: 'NodePort', selector: { 'app.kubernetes.io/name': s.name } });
      expect(service.spec.ports[0]).toMatchObject({ port: s.port, targetPort: s.port, nodePort: s.nodePort });
    }
    const secret = await getIn('Secret', 'database', ns);
    expect(Object.keys(secret.data).sort()).toEqual(['database', 'host', 'password', 'port', 'url', 'username']);
    expect(Buffer.from(secret.data.password, 'base64').length).toBeGreaterThanOrEqual(32);

    const scaffold: { items: Json[] } = await factory.client.list('v1', 'ConfigMap', { namespace: ns, labelSelector: 'startupfactory.dev/scaffold=true' });
    expect(scaffold.items.map((c) => c.metadata.name)).toContain('scaffold-manifest');
    const manifest = JSON.parse(scaffold.items.find((c) => c.metadata.name === 'scaffold-manifest').data['manifest.json']);
    expect(manifest.files.map((f: { path: string }) => f.path)).toContain('frontend/package.json');
    for (const c of scaffold.items) expect(c.metadata.ownerReferences).toEqual([expect.objectContaining(owner)]);

    // One Event per status write: admission told with the phase Provisioning, provisioning done with Running.
    const events = await waitFor('Events about the Startup', async () => {
      const { stdout } = await kubectl(['get', 'events', '-n', 'default', '--field-selector', `involvedObject.name=${first}`, '-o', 'json']);
      const items = (JSON.parse(stdout) as { items: { reason: string; note?: string; message?: string }[] }).items;
      return items.some((e) => e.reason === 'PhaseRunning') && items;
    }, 15_000);
    const byReason = new Map(events.map((e) => [e.reason, e.note ?? e.message ?? '']));
    expect(byReason.get('PhaseProvisioning')).toMatch(/^phase \(none\) -> Provisioning; Admitted=True: /);
    expect(byReason.get('PhaseRunning')).toMatch(/^phase Provisioning -> Running; Provisioned=True: /);
    expect(byReason.has('Admitted')).toBe(false);
  });

  it('makes no write when a resync finds nothing to change', async () => {
    // Let the status write's own watch event (and its reconcile) pass first.
    await settled(factory);
    const before = mutatingWrites();
    const reconciled = await reconcileCount();
    for (let i = 0; i < 5; i++) {
      for (const s of factory.operator.startups.startups.list()) factory.operator.startups.controller.enqueue(s.metadata.name);
      await waitFor('the forced resync', async () => (await reconcileCount()) > reconciled + i && factory.operator.startups.controller.queue.len() === 0, 10_000);
    }
    expect(await reconcileCount()).toBeGreaterThanOrEqual(reconciled + 5);
    expect(mutatingWrites() - before).toBe(0);
  });

  it('updates the quota when the spec changes', async () => {
    await kubectl(['patch', 'startup', first, '--type', 'merge', '-p', JSON.stringify({ spec: { resources: { memory: '1Gi' } } })]);
    await waitFor('quota to follow the spec', async () => (await getIn('ResourceQuota', 'startup-quota', ns)).spec.hard['limits.memory'] === '1Gi', 10_000);
    await waitFor('status of generation 2', async () => { const s = await factory.get(first); return isProvisioned(s) && s.status?.observedGeneration === 2; }, 10_000);
  });

  it('reverts a hand edit of a managed object, and recreates a deleted one', async () => {
    const patched = await kubectl(['patch', 'resourcequota', 'startup-quota', '-n', ns, '--type', 'merge', '-p', JSON.stringify({ spec: { hard: { 'limits.memory': '64Gi', pods: '1000' } } })]);
    expect(patched.code).toBe(0);
    await waitFor('quota drift reverted', async () => {
      const hard = (await getIn('ResourceQuota', 'startup-quota', ns)).spec.hard;
      return hard['limits.memory'] === '1Gi' && hard.pods === '30';
    }, 10_000);
    expect((await kubectl(['delete', 'networkpolicy', 'startup-isolation', '-n', ns])).code).toBe(0);
    await waitFor('network policy recreated', () => getIn('NetworkPolicy', 'startup-isolation', ns), 10_000);
  });

  it('reverts a hand edit of the scaffold\'s data and recreates a deleted chunk, though it caches their metadata only', async () => {
    const original = await getIn('ConfigMap', 'scaffold-0', ns);
    const key = Object.keys(original.data)[0]!;
    const edited = await kubectl(['patch', 'configmap', 'scaffold-0', '-n', ns, '--type', 'merge', '-p', JSON.stringify({ data: { [key]: 'tampered' } })]);
    expect(edited.code, edited.stderr).toBe(0);
    await waitFor('scaffold data restored', async () => (await getIn('ConfigMap', 'scaffold-0', ns)).data[key] === original.data[key], 10_000);
    expect((await kubectl(['delete', 'configmap', 'scaffold-0', '-n', ns])).code).toBe(0);
    await waitFor('scaffold chunk recreated', async () => (await getIn('ConfigMap', 'scaffold-0', ns).catch(() => undefined))?.data?.[key] === original.data[key], 10_000);
  });

  it('makes a hand-deleted database Secret again within seconds, to the same contract', async () => {
    const decode = (data: Record<string, string>) => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    const before = await getIn('Secret', 'database', ns);
    expect((await kubectl(['delete', 'secret', 'database', '-n', ns])).code).toBe(0);
    // Nothing the operator caches is the Secret: the quota's count of Secrets changing is what brings it back.
    const again = await waitFor('the database Secret made again', async () => {
      const s = await factory.client.getOptional<Json>({ apiVersion: 'v1', kind: 'Secret', name: 'database', namespace: ns });
      return s?.metadata.uid !== before.metadata.uid && s;
    }, 15_000);
    const was = decode(before.data);
    const is = decode(again.data);
    expect(Object.keys(is).sort()).toEqual(['database', 'host', 'password', 'port', 'url', 'username']);
    for (const key of ['database', 'username', 'host', 'port']) expect(is[key], key).toBe(was[key]);
    expect(is.password!.length).toBeGreaterThanOrEqual(32);
    expect(is.url).toBe(`postgresql://${is.username}:${encodeURIComponent(is.password!)}@${is.host}:${is.port}/${is.database}`);
    expect(again.metadata.labels).toEqual(before.metadata.labels);
    expect(again.metadata.ownerReferences).toEqual(before.metadata.ownerReferences);
    // A create that finds the Secret there is still charged to the quota: checking with real
    // creates would count Secrets that do not exist, each charge a reason to check again.
    await new Promise((r) => setTimeout(r, 2000));
    expect((await getIn('ResourceQuota', 'startup-quota', ns)).status.used.secrets).toBe('1');
  });

  it('waits for a template that does not exist, and stalls on values the template refuses', async () => {
    const waiting = uniqueName('su');
    await apply([factory.manifest(waiting, { template: uniqueName('missing') })]);
    const missing = await waitFor('TemplateRendered=False', async () => { const s = await factory.get(waiting); return condition(s, 'TemplateRendered')?.status === 'False' && s; }, 30_000);
    expect(condition(missing, 'TemplateRendered')?.reason).toBe('TemplateNotFound');
    expect(condition(missing, 'Ready')?.status).toBe('False');
    expect(condition(missing, 'Provisioned')?.status).toBe('True');
    await kubectl(['patch', 'startup', first, '--type', 'merge', '-p', JSON.stringify({ spec: { values: { primaryColor: 'red' } } })]);
    const refused = await waitFor('Stalled on invalid values', async () => { const s = await factory.get(first); return condition(s, 'Stalled')?.status === 'True' && s; }, 15_000);
    expect(condition(refused, 'TemplateRendered')).toMatchObject({ status: 'False', reason: 'InvalidValues', message: expect.stringContaining('primaryColor') });
    await kubectl(['patch', 'startup', first, '--type', 'merge', '-p', JSON.stringify({ spec: { values: { primaryColor: '#112233' } } })]);
    await waitFor('Ready again with valid values', async () => isProvisioned(await factory.get(first)), 15_000);
    await kubectl(['delete', 'startup', waiting, '--wait=false']);
  });

  it('never regenerates the database password', async () => {
    const before = (await getIn('Secret', 'database', ns)).data.password;
    await kubectl(['patch', 'startup', first, '--type', 'merge', '-p', JSON.stringify({ spec: { resources: { cpu: '600m' } } })]);
    await waitFor('quota cpu update', async () => (await getIn('ResourceQuota', 'startup-quota', ns)).spec.hard['limits.cpu'] === '600m', 10_000);
    expect((await getIn('Secret', 'database', ns)).data.password).toBe(before);
  });

  const second = uniqueName('su');
  it('stalls a NodePort Startup on an exhausted pool, with a reason', async () => {
    await apply([factory.manifest(second, { expose: 'NodePort' })]);
    const stalled = await waitFor(`${second} Stalled`, async () => {
      const s = await factory.get(second);
      return condition(s, 'Stalled')?.status === 'True' && s;
    }, 20_000);
    expect(condition(stalled, 'Stalled')?.reason).toBe('NodePortsExhausted');
    expect(condition(stalled, 'Provisioned')).toMatchObject({ status: 'False', reason: 'NodePortsExhausted' });
    expect(condition(stalled, 'Admitted')?.status).toBe('True');
    expect(condition(stalled, 'Ready')?.status).toBe('False');
    await waitFor('a Warning Event naming the reason', async () => {
      const { stdout } = await kubectl(['get', 'events', '-n', 'default', '--field-selector', `involvedObject.name=${second},type=Warning`, '-o', 'jsonpath={.items[*].reason}']);
      return stdout.includes('NodePortsExhausted');
    }, 15_000);
    expect((await kubectl(['get', 'namespace', `startup-${second}`])).code).not.toBe(0);
  });

  it('deletes everything with the Startup and frees its node ports', async () => {
    expect((await kubectl(['delete', 'startup', first, '--wait=false'])).code).toBe(0);
    const taken = await waitFor(`${second} Ready with the freed ports`, async () => { const s = await factory.get(second); return isProvisioned(s) && s; }, 60_000);
    expect(taken.status?.allocation?.nodePorts).toHaveLength(3);
    await waitForGone(['namespace', ns], `namespace ${ns} deleted`, 120_000);
  });

  it('frees the allocation of a Startup deleted while the operator was down', async () => {
    await factory.stop();
    expect((await kubectl(['delete', 'startup', second, '--wait=false'])).code).toBe(0);
    await waitForGone(['namespace', `startup-${second}`], 'namespace deleted by garbage collection alone', 120_000);
    await factory.start();
    const third = uniqueName('su');
    await apply([factory.manifest(third, { expose: 'NodePort', services: [{ name: 'frontend', port: 3000 }, { name: 'api', port: 8000 }, { name: 'db', port: 5432 }, { name: 'admin', port: 9090 }] })]);
    const ready = await waitFor(`${third} Ready on the whole pool`, async () => { const s = await factory.get(third); return isProvisioned(s) && s; }, 60_000);
    expect(ready.status?.allocation?.nodePorts).toEqual([30010, 30011, 30012, 30013]);
    const objects: KubeObject[] = (await factory.client.list('v1', 'Service', { namespace: `startup-${third}` })).items;
    expect(objects.map((o) => o.metadata.name).sort()).toEqual(['admin', 'api', 'db', 'frontend']);
  });
});
