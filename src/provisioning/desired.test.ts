import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../kube/client.ts';
import { desiredObjects, type ProvisioningInput } from './desired.ts';
import { bytes, cpuMillis } from './quantity.ts';
import { DEFAULT_SERVICES, resolveServicePorts, withNodePorts } from './services.ts';

const startup = { name: 'payflow', uid: '1b4e28ba-2fa1-11d2-883f-0016d3cca427' };
const input = (over: Partial<ProvisioningInput> = {}): ProvisioningInput => ({
  startup,
  resources: { memory: '512Mi', cpu: '500m', storage: '2Gi' },
  expose: 'ClusterIP',
  services: withNodePorts(DEFAULT_SERVICES, {}),
  operatorNamespace: 'startup-factory',
  gatewayPort: 8081,
  ...over,
});
// The objects are plain JSON as sent to the API server; the tests read them as such.
type Json = any;
const byKind = (objects: KubeObject[], kind: string): Json[] => objects.filter((o) => o.kind === kind);

describe('desiredObjects', () => {
  const objects = desiredObjects(input());

  it('labels every object and makes the Startup its controlling owner', () => {
    for (const o of objects) {
      expect(o.apiVersion).toBeTruthy();
      expect(o.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'startup-factory', 'startupfactory.dev/startup': 'payflow' });
      expect(o.metadata?.ownerReferences).toEqual([
        { apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', name: 'payflow', uid: startup.uid, controller: true, blockOwnerDeletion: true },
      ]);
      if (o.kind !== 'Namespace') expect(o.metadata?.namespace).toBe('startup-payflow');
    }
  });

  it('applies the Namespace first, under Pod Security restricted', () => {
    const ns: Json = objects[0];
    expect(ns.kind).toBe('Namespace');
    expect(ns.metadata?.name).toBe('startup-payflow');
    expect(ns.metadata?.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' });
  });

  it('turns spec.resources into the quota, with counts and no node ports for ClusterIP', () => {
    const [quota] = byKind(objects, 'ResourceQuota');
    expect(quota?.spec?.hard).toMatchObject({
      'requests.cpu': '500m', 'limits.cpu': '500m', 'requests.memory': '512Mi', 'limits.memory': '512Mi', 'requests.storage': '2Gi',
      pods: expect.any(String), services: expect.any(String), configmaps: expect.any(String), secrets: expect.any(String),
      persistentvolumeclaims: expect.any(String), 'count/jobs.batch': expect.any(String), 'services.nodeports': '0',
    });
  });

  it('writes quantities in canonical form', () => {
    const [quota] = byKind(desiredObjects(input({ resources: { memory: '1.5Gi', cpu: '2000m', storage: '1Gi' } })), 'ResourceQuota');
    expect(quota?.spec?.hard).toMatchObject({ 'limits.memory': '1536Mi', 'limits.cpu': '2' });
  });

  it('gives LimitRange defaults that fit inside the quota', () => {
    for (const resources of [{ memory: '512Mi', cpu: '500m', storage: '2Gi' }, { memory: '3Gi', cpu: '3', storage: '1Gi' }, { memory: '100Mi', cpu: '50m', storage: '1Gi' }]) {
      const [range] = byKind(desiredObjects(input({ resources })), 'LimitRange');
      const container = range?.spec?.limits.find((l: Json) => l.type === 'Container');
      const limit = container?.default;
      const request = container?.defaultRequest;
      expect(cpuMillis(limit!.cpu!)).toBeLessThanOrEqual(cpuMillis(resources.cpu));
      expect(bytes(limit!.memory!)).toBeLessThanOrEqual(bytes(resources.memory));
      expect(cpuMillis(request!.cpu!)).toBeLessThanOrEqual(cpuMillis(limit!.cpu!));
      expect(bytes(request!.memory!)).toBeLessThanOrEqual(bytes(limit!.memory!));
      expect(container?.max).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    }
  });

  it('denies all traffic but the namespace itself, DNS and the AI gateway', () => {
    const [policy] = byKind(objects, 'NetworkPolicy');
    expect(policy?.spec?.podSelector).toEqual({});
    expect(policy?.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy?.spec?.ingress).toEqual([{ from: [{ podSelector: {} }] }]);
    const egress = policy?.spec?.egress ?? [];
    expect(egress).toHaveLength(3);
    expect(egress).toContainEqual({ to: [{ podSelector: {} }] });
    expect(egress).toContainEqual({
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
      ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
    });
    expect(egress).toContainEqual({
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'startup-factory' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'startup-factory' } } }],
      ports: [{ protocol: 'TCP', port: 8081 }],
    });
  });

  it('creates the task ServiceAccount without an automounted token', () => {
    expect(byKind(objects, 'ServiceAccount')).toEqual([
      expect.objectContaining({ metadata: expect.objectContaining({ name: 'startup-tasks' }), automountServiceAccountToken: false }),
    ]);
  });

  it('creates ClusterIP Services for the default stack', () => {
    const services = byKind(objects, 'Service');
    expect(services.map((s: Json) => [s.metadata?.name, s.spec?.type, s.spec?.ports?.[0]?.port])).toEqual([
      ['frontend', 'ClusterIP', 3000], ['api', 'ClusterIP', 8000], ['db', 'ClusterIP', 5432],
    ]);
    expect(services[0]?.spec?.ports?.[0]).not.toHaveProperty('nodePort');
  });

  it('exposes NodePort Services on the allocated ports, lets traffic in to them and caps node ports in the quota', () => {
    const exposed = desiredObjects(input({ expose: 'NodePort', services: withNodePorts(DEFAULT_SERVICES, { frontend: 30010, api: 30011, db: 30012 }) }));
    const services = byKind(exposed, 'Service');
    expect(services.map((s: Json) => [s.spec?.type, s.spec?.ports?.[0]?.nodePort])).toEqual([['NodePort', 30010], ['NodePort', 30011], ['NodePort', 30012]]);
    expect(byKind(exposed, 'ResourceQuota')[0]?.spec?.hard?.['services.nodeports']).toBe('3');
    expect(byKind(exposed, 'NetworkPolicy')[0]?.spec?.ingress).toContainEqual({
      ports: [{ protocol: 'TCP', port: 3000 }, { protocol: 'TCP', port: 8000 }, { protocol: 'TCP', port: 5432 }],
    });
  });

  it('is deterministic', () => {
    expect(desiredObjects(input())).toEqual(desiredObjects(input()));
  });
});

describe('resolveServicePorts', () => {
  it('prefers spec.services, then the template, then the defaults', () => {
    expect(resolveServicePorts([{ name: 'web', port: 8080 }], [{ name: 'app', port: 80 }])).toEqual([{ name: 'web', port: 8080 }]);
    expect(resolveServicePorts(undefined, [{ name: 'app', port: 80 }])).toEqual([{ name: 'app', port: 80 }]);
    expect(resolveServicePorts(undefined, undefined)).toEqual(DEFAULT_SERVICES);
  });
});
