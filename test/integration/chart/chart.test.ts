import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorHelp } from '../../../src/operator/config.ts';
import { helm, kubectl, uniqueName } from '../../support/cluster.ts';
import { type Manifest, chartPath, helmTemplate, kubeconform, parseManifests, schemaDirFor, scratchDir, serverVersion } from './render.ts';

type PolicyRule = { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[]; nonResourceURLs?: string[] };
type EnvVar = { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } };
type Container = {
  image: string;
  args?: string[];
  env: EnvVar[];
  ports: { name: string; containerPort: number }[];
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  securityContext: { allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean; runAsNonRoot: boolean; capabilities: { drop: string[] } };
};
type Deployment = Manifest & {
  spec: {
    replicas: number;
    template: { metadata: { labels: Record<string, string> }; spec: { securityContext: { runAsNonRoot: boolean; runAsUser: number; seccompProfile: { type: string } }; containers: Container[] } };
  };
};

const namespace = uniqueName('sf-chart');
const release = uniqueName('sf');
let manifests: Manifest[];
let rendered: string;

const partition = <T>(items: T[], test: (item: T) => boolean): [T[], T[]] => [items.filter(test), items.filter((i) => !test(i))];

const find = <T extends Manifest>(kind: string) => {
  const found = manifests.filter((m) => m.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as T;
};

beforeAll(async () => {
  const res = await helmTemplate(release, namespace);
  expect(res.code, res.stderr).toBe(0);
  rendered = res.stdout;
  manifests = parseManifests(rendered);
});

describe('helm chart', () => {
  it('passes helm lint --strict', async () => {
    const res = await helm(['lint', '--strict', chartPath]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain('0 chart(s) failed');
  });

  it('renders manifests that kubeconform -strict accepts, CRDs and custom resources included', async () => {
    const withCrds = await helmTemplate(release, namespace, ['--include-crds']);
    expect(withCrds.code, withCrds.stderr).toBe(0);
    const all = parseManifests(withCrds.stdout);
    expect(all.filter((m) => m.kind === 'CustomResourceDefinition').map((m) => m.metadata.name).sort()).toEqual([
      'aiproviders.startupfactory.dev', 'startups.startupfactory.dev', 'startuptemplates.startupfactory.dev',
    ]);
    const result = await kubeconform(withCrds.stdout, await schemaDirFor(all));
    expect(result.code, result.output).toBe(0);
    // Nothing skipped and no missing schema: every object, custom resources too, was checked.
    expect(result.summary).toEqual({ valid: all.length, invalid: 0, errors: 0, skipped: 0 });
  });

  it('packages with its CRDs and built-in templates', async () => {
    const dir = await scratchDir('sf-chart-');
    const packaged = await helm(['package', chartPath, '--destination', dir]);
    expect(packaged.code, packaged.stderr).toBe(0);
    const archive = join(dir, (await readdir(dir))[0]!);
    const fromArchive = await helm(['template', release, archive, '--namespace', namespace, '--kube-version', await serverVersion(), '--include-crds']);
    expect(fromArchive.code, fromArchive.stderr).toBe(0);
    const [crds, others] = partition(parseManifests(fromArchive.stdout), (m) => m.kind === 'CustomResourceDefinition');
    expect(crds.map((m) => m.metadata.name).sort()).toEqual([
      'aiproviders.startupfactory.dev', 'startups.startupfactory.dev', 'startuptemplates.startupfactory.dev',
    ]);
    expect(others).toEqual(manifests);
  });

  it('kubeconform refuses a field the schemas do not know', async () => {
    const deployment = find<Deployment>('Deployment');
    const tampered = { ...deployment, spec: { ...deployment.spec, replicass: 3 } };
    const result = await kubeconform(JSON.stringify(tampered), await schemaDirFor([deployment]));
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('replicass');
  });

  it('is accepted by the API server (kubectl apply --dry-run=server)', async () => {
    const created = await kubectl(['create', 'namespace', namespace]);
    expect(created.code, created.stderr).toBe(0);
    const res = await kubectl(['apply', '--dry-run=server', '-f', '-'], { input: rendered });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.match(/\(server dry run\)/g)).toHaveLength(manifests.length);
  });

  it('values.schema.json refuses unknown keys at every level', async () => {
    for (const set of ['foo=bar', 'operator.foo=bar', 'image.digest=sha256:0', 'operator.leaderElection.ttl=15', 'ports.admin=9090']) {
      const res = await helmTemplate(release, namespace, ['--set', set]);
      expect(res.code, set).not.toBe(0);
      expect(res.stderr, set).toMatch(/additional propert(y|ies) '[a-z]+' not allowed/);
    }
  });

  it('values.schema.json refuses ill-typed values', async () => {
    for (const set of ['replicaCount=0', 'operator.logLevel=loud', 'operator.capacity.memory=lots', 'ports.gateway=70000']) {
      const res = await helmTemplate(release, namespace, ['--set', set]);
      expect(res.code, set).not.toBe(0);
    }
  });

  it('refuses several replicas without leader election', async () => {
    const res = await helmTemplate(release, namespace, ['--set', 'operator.leaderElection.enabled=false']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('operator.leaderElection.enabled must be true when replicaCount > 1');
    const single = await helmTemplate(release, namespace, ['--set', 'operator.leaderElection.enabled=false', '--set', 'replicaCount=1']);
    expect(single.code, single.stderr).toBe(0);
  });
});

describe('RBAC', () => {
  const rulesOf = (kind: string) => find<Manifest & { rules: PolicyRule[] }>(kind).rules;

  it('has no wildcard anywhere', () => {
    for (const kind of ['ClusterRole', 'Role']) {
      for (const rule of rulesOf(kind)) {
        const fields = [rule.apiGroups, rule.resources, rule.verbs, rule.resourceNames, rule.nonResourceURLs].flat();
        expect(fields.filter((f) => f?.includes('*')), `${kind} ${JSON.stringify(rule)}`).toEqual([]);
      }
    }
  });

  it('grants exact verbs per resource, no escalation verbs, Secrets created but never read outside the release namespace', () => {
    const grants = new Map<string, string[]>();
    for (const rule of [...rulesOf('ClusterRole'), ...rulesOf('Role')]) {
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) grants.set(`${group}/${resource}`, [...(grants.get(`${group}/${resource}`) ?? []), ...rule.verbs]);
      }
    }
    const verbs = [...grants.values()].flat();
    for (const forbidden of ['escalate', 'bind', 'impersonate', 'deletecollection']) expect(verbs).not.toContain(forbidden);
    // Secrets: created anywhere (a startup's database credentials, each attempt's token), read
    // by name in the release namespace only (provider keys, the gateway's signing key), never
    // listed or watched anywhere, since RBAC cannot scope those to the operator's own.
    expect(grants.get('/secrets')?.sort()).toEqual(['create', 'get']);
    expect(rulesOf('ClusterRole').filter((r) => r.resources?.includes('secrets')).flatMap((r) => r.verbs)).toEqual(['create']);
    expect(rulesOf('Role').filter((r) => r.resources?.includes('secrets')).flatMap((r) => r.verbs)).toEqual(['get']);
    // Patched only to label its own pod as the leader, in the release namespace; listed for the dashboard.
    expect(grants.get('/pods')?.sort()).toEqual(['list', 'patch']);
    expect(rulesOf('Role').find((r) => r.resources?.includes('pods'))?.verbs).toEqual(['patch']);
    expect(grants.get('/persistentvolumeclaims')).toEqual(['list']);
    expect(grants.get('batch/jobs')?.sort()).toEqual(['create', 'get', 'list', 'patch', 'watch']);
    expect(grants.get('/nodes')?.sort()).toEqual(['get', 'list', 'watch']);
    expect(grants.get('events.k8s.io/events')?.sort()).toEqual(['create', 'list', 'patch']);
    // The dashboard's viewer check, and nothing else of the auth APIs.
    expect(grants.get('authentication.k8s.io/tokenreviews')).toEqual(['create']);
    expect(grants.get('authorization.k8s.io/subjectaccessreviews')).toEqual(['create']);
    expect(grants.get('coordination.k8s.io/leases')?.sort()).toEqual(['create', 'get', 'update']);
    // Its own Deployment only, read for the uid its Lease and signing key are owned by.
    expect(rulesOf('Role').filter((r) => r.resources?.includes('deployments'))).toEqual([
      { apiGroups: ['apps'], resources: ['deployments'], resourceNames: [find<Manifest>('Deployment').metadata.name], verbs: ['get'] },
    ]);
    expect(grants.get('apps/deployments')).toEqual(['get']);
    expect(grants.get('startupfactory.dev/startups/finalizers')).toEqual(['update']);
    // Objects garbage collection removes with their Startup are never deleted by the operator.
    for (const resource of ['/namespaces', '/resourcequotas', '/limitranges', '/serviceaccounts', 'networking.k8s.io/networkpolicies']) {
      expect(grants.get(resource)?.sort(), resource).toEqual(['create', 'get', 'list', 'patch', 'watch']);
    }
    expect(grants.get('/services')?.sort()).toEqual(['create', 'delete', 'get', 'list', 'patch', 'watch']);
    // Ledgers are compare-and-swapped (update), in the release namespace only.
    expect(grants.get('/configmaps')?.sort()).toEqual(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']);
    expect(rulesOf('Role').find((r) => r.resources?.includes('configmaps'))?.verbs).toEqual(['update']);
    // The kinds users own are read-only to the operator but for their status.
    for (const kind of ['startups', 'startuptemplates', 'aiproviders']) {
      expect(grants.get(`startupfactory.dev/${kind}`)?.sort(), kind).toEqual(['get', 'list', 'watch']);
      expect(grants.get(`startupfactory.dev/${kind}/status`)?.sort(), kind).toEqual(['get', 'patch', 'update']);
    }
  });

  it('leaves the dashboard\'s rights out with the dashboard, and its token reviews out when it asks for none', async () => {
    const rules = async (set: string[]) => {
      const res = await helmTemplate(release, namespace, set.flatMap((s) => ['--set', s]));
      expect(res.code, res.stderr).toBe(0);
      return parseManifests(res.stdout).filter((m) => m.kind === 'ClusterRole').flatMap((m) => (m as unknown as { rules: { resources?: string[] }[] }).rules);
    };
    const off = await rules(['dashboard.enabled=false']);
    expect(off.flatMap((r) => r.resources ?? [])).not.toContain('tokenreviews');
    expect(off.flatMap((r) => r.resources ?? [])).not.toContain('persistentvolumeclaims');
    const open = await rules(['dashboard.auth=none']);
    expect(open.flatMap((r) => r.resources ?? [])).not.toContain('tokenreviews');
    expect(open.flatMap((r) => r.resources ?? [])).toContain('persistentvolumeclaims');
  });

  it('binds the roles to the operator ServiceAccount, the Role in the release namespace only', () => {
    const sa = find('ServiceAccount');
    for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
      const binding = find<Manifest & { subjects: { kind: string; name: string; namespace: string }[]; roleRef: { kind: string } }>(kind);
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace }]);
    }
    expect(find('Role').metadata.namespace).toBe(namespace);
  });
});

describe('Deployment', () => {
  const deployment = () => find<Deployment>('Deployment');
  const container = () => deployment().spec.template.spec.containers[0]!;

  it('runs two replicas with leader election on', () => {
    expect(deployment().spec.replicas).toBe(2);
    expect(container().env).toContainEqual({ name: 'SF_LEADER_ELECT', value: 'true' });
    expect(container().args).toEqual(['operator']);
  });

  it('is locked down: non-root, read-only root filesystem, no capabilities, RuntimeDefault seccomp', () => {
    const pod = deployment().spec.template.spec.securityContext;
    expect(pod.runAsNonRoot).toBe(true);
    expect(pod.runAsUser).toBeGreaterThan(0);
    expect(pod.seccompProfile.type).toBe('RuntimeDefault');
    expect(container().securityContext).toMatchObject({
      allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] },
    });
  });

  it('probes /healthz and /readyz on the metrics port and learns its identity from the downward API', () => {
    expect(container().livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container().readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(container().ports).toEqual([
      { name: 'metrics', containerPort: 8080, protocol: 'TCP' },
      { name: 'gateway', containerPort: 8081, protocol: 'TCP' },
      { name: 'dashboard', containerPort: 8082, protocol: 'TCP' },
    ]);
    const fieldRef = (name: string) => container().env.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath;
    expect(fieldRef('POD_NAME')).toBe('metadata.name');
    expect(fieldRef('POD_NAMESPACE')).toBe('metadata.namespace');
  });

  it('configures the operator only through environment variables it knows', () => {
    const known = new Set(operatorHelp().split('\n').map((line) => line.trim().split(/\s+/)[1]));
    for (const { name } of container().env) expect(known, name).toContain(name);
  });

  it('carries the pod label the startup NetworkPolicies admit', () => {
    expect(deployment().spec.template.metadata.labels['app.kubernetes.io/name']).toBe('startup-factory');
    const pdb = find<Manifest & { spec: { selector: { matchLabels: Record<string, string> } } }>('PodDisruptionBudget');
    expect(pdb.spec.selector.matchLabels['app.kubernetes.io/name']).toBe('startup-factory');
  });

  it('serves metrics and the dashboard on one Service, and the gateway on one that selects the leader only', () => {
    type Service = Manifest & { spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] } };
    const services = manifests.filter((m) => m.kind === 'Service') as Service[];
    const main = services.find((s) => !s.metadata.name.endsWith('-gateway'))!;
    const gateway = services.find((s) => s.metadata.name.endsWith('-gateway'))!;
    expect(main.spec.ports.map((p) => [p.name, p.port, p.targetPort])).toEqual([['metrics', 8080, 'metrics'], ['dashboard', 80, 'dashboard']]);
    expect(gateway.spec.ports.map((p) => [p.name, p.port, p.targetPort])).toEqual([['gateway', 8081, 'gateway']]);
    expect(gateway.spec.selector).toMatchObject({ 'app.kubernetes.io/name': 'startup-factory', 'startupfactory.dev/leader': 'true' });
    const env = (name: string) => container().env.find((e) => e.name === name)?.value;
    expect(env('SF_GATEWAY_URL')).toBe(`http://${gateway.metadata.name}.${namespace}.svc:8081`);
    expect(env('SF_LABEL_LEADER_POD')).toBe('true');
    expect(env('SF_TASK_IMAGE')).toMatch(/^startup-factory:/);
    // What the operator makes for itself in its namespace goes with the Deployment.
    expect(env('SF_OWNER_DEPLOYMENT')).toBe(deployment().metadata.name);
  });

  it('can serve the gateway on a node port, for task pods that reach nodes but not ClusterIPs', async () => {
    const res = await helmTemplate(release, namespace, ['--set', 'service.gateway.type=NodePort', '--set', 'service.gateway.nodePort=31081']);
    expect(res.code, res.stderr).toBe(0);
    const gateway = parseManifests(res.stdout).find((m) => m.kind === 'Service' && m.metadata.name.endsWith('-gateway')) as Manifest & { spec: { type: string; ports: { nodePort?: number }[] } };
    expect(gateway.spec.type).toBe('NodePort');
    expect(gateway.spec.ports.map((p) => p.nodePort)).toEqual([31081]);
    // ClusterIP unless asked.
    expect(manifests.find((m) => m.kind === 'Service' && m.metadata.name.endsWith('-gateway'))).toMatchObject({ spec: { type: 'ClusterIP' } });
  });
});

describe('built-in templates', () => {
  it('installs one StartupTemplate per packed template file, verbatim', async () => {
    const dir = join(chartPath, 'files', 'builtin-templates');
    const packed = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.yaml'));
    const templates = manifests.filter((m) => m.kind === 'StartupTemplate');
    expect(templates).toHaveLength(packed.length);
    for (const file of packed) {
      const expected = parseManifests(await readFile(join(dir, file), 'utf8'))[0]!;
      expect(templates.find((t) => t.metadata.name === expected.metadata.name)).toEqual(expected);
    }
  });

  it('can be left out', async () => {
    const res = await helmTemplate(release, namespace, ['--set', 'builtinTemplates.enabled=false']);
    expect(res.code, res.stderr).toBe(0);
    expect(parseManifests(res.stdout).filter((m) => m.kind === 'StartupTemplate')).toEqual([]);
  });
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']);
});
