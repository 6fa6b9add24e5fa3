/**
 * The chart installed for real: the operator runs from its image (on the local cluster, as a
 * process under the pod runner) with nothing but the chart's ServiceAccount and RBAC,
 * provisions a Startup and runs its whole pipeline (offline) through task Jobs and the
 * gateway. A missing permission shows up here as a Startup that never gets there or as
 * "forbidden" in the operator's log; one too many, as a `kubectl auth can-i` that says yes.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../../cluster/paths.ts';
import { helm, kubectl, uniqueName, waitFor, waitForGone, waitForObject } from '../../support/cluster.ts';
import { chartPath, parseManifests } from './render.ts';

const RUN_LABEL = 'test.startupfactory.dev/run';
const namespace = uniqueName('sf-install');
const release = uniqueName('sf');
const fullname = `${release}-startup-factory`;
const run = uniqueName('run');
const template = uniqueName('tpl');
const startup = uniqueName('su');

type Condition = { type: string; status: string; reason?: string; message?: string };
type Pod = { metadata: { name: string; labels?: Record<string, string> }; spec: { serviceAccountName: string }; status: { phase: string } };

/** A port nothing listens on: the pod runner runs every pod on the host's network. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function operatorPods(): Promise<Pod[]> {
  const res = await kubectl(['get', 'pods', '-n', namespace, '-l', `app.kubernetes.io/instance=${release}`, '-o', 'json']);
  expect(res.code, res.stderr).toBe(0);
  return (JSON.parse(res.stdout) as { items: Pod[] }).items;
}

/** The pod's log: the pod runner keeps it in a file; a cluster with kubelets serves it. */
async function podLog(pod: string): Promise<string> {
  const file = await readFile(join(paths.logs, `${namespace}_${pod}.log`), 'utf8').catch(() => undefined);
  if (file !== undefined) return file;
  const res = await kubectl(['logs', '-n', namespace, pod]);
  expect(res.code, res.stderr).toBe(0);
  return res.stdout;
}

/** The data of the Startup's database Secret, as the test's admin sees it. */
async function databaseSecret(): Promise<Record<string, string>> {
  const res = await kubectl(['get', 'secret', 'database', '-n', `startup-${startup}`, '-o', 'jsonpath={.data}']);
  if (res.code !== 0) throw new Error(res.stderr);
  return JSON.parse(res.stdout) as Record<string, string>;
}

let metricsPort: number;
let gatewayPort: number;
let dashboardPort: number;

const conditionOf = (obj: { status?: { conditions?: Condition[] } }, type: string) => obj.status?.conditions?.find((c) => c.type === type);

beforeAll(async () => {
  expect((await kubectl(['create', 'namespace', namespace])).code).toBe(0);
  // The packed built-in, under a name of this test's own: the shared cluster may hold others.
  const builtin = parseManifests(await readFile(join(chartPath, 'files', 'builtin-templates', 'reactnext.yaml'), 'utf8'))[0]!;
  const created = await kubectl(['create', '-f', '-'], { input: stringify({ ...builtin, metadata: { name: template } }) });
  expect(created.code, created.stderr).toBe(0);
  [metricsPort, gatewayPort, dashboardPort] = [await freePort(), await freePort(), await freePort()];
  const res = await helm([
    'install', release, chartPath, '--namespace', namespace, '--skip-crds', '--wait', '--timeout', '120s',
    // One replica: replicas of one Deployment would share the host's ports under the pod runner.
    '--set', 'replicaCount=1',
    '--set', `ports.metrics=${metricsPort}`, '--set', `ports.gateway=${gatewayPort}`, '--set', `ports.dashboard=${dashboardPort}`,
    // Pods here share the host's loopback and no cluster DNS resolves the gateway Service: point task Jobs at it directly.
    '--set', `operator.pipeline.gatewayUrl=http://127.0.0.1:${gatewayPort}`,
    // Manage only this test's Startups, from a node port range no other test uses.
    '--set', `operator.startupSelector=${RUN_LABEL}=${run}`, '--set', 'operator.nodePortRange=32700-32749',
    '--set', 'builtinTemplates.enabled=false',
  ]);
  expect(res.code, res.stderr).toBe(0);
});

describe('helm install', () => {
  it('runs the operator under the chart ServiceAccount, and it takes the leader Lease', async () => {
    const [pod] = await operatorPods();
    expect(pod?.spec.serviceAccountName).toBe(fullname);
    expect(pod?.status.phase).toBe('Running');
    // POD_NAME reaches the operator through the downward API and becomes its identity.
    await waitForObject<{ spec: { holderIdentity?: string } }>(
      ['lease', 'startup-factory-leader', '-n', namespace], (lease) => lease.spec.holderIdentity === pod!.metadata.name, 'the operator to lead',
    );
  });

  it('labels the leading pod, which the gateway Service selects', async () => {
    await waitFor('the leader label', async () => (await operatorPods()).some((p) => p.metadata.labels?.['startupfactory.dev/leader'] === 'true'), 30_000);
  });

  it('may read Secrets only by name in its own namespace, and only create them elsewhere', async () => {
    const can = async (verb: string, where: string[]) => {
      const res = await kubectl(['auth', 'can-i', verb, 'secrets', ...where, '--as', `system:serviceaccount:${namespace}:${fullname}`]);
      expect(res.stdout.trim(), `${verb} secrets ${where.join(' ')}: ${res.stderr}`).toMatch(/^(yes|no)$/);
      return res.stdout.trim();
    };
    for (const verb of ['get', 'list', 'watch']) {
      for (const where of [['-n', 'default'], ['-n', `startup-${startup}`], ['--all-namespaces']]) expect(await can(verb, where), `${verb} ${where.join(' ')}`).toBe('no');
    }
    expect(await can('get', ['-n', namespace])).toBe('yes');
    for (const verb of ['list', 'watch', 'patch', 'update', 'delete']) expect(await can(verb, ['-n', namespace]), verb).toBe('no');
    // What provisioning and the pipeline need in every startup's namespace.
    expect(await can('create', ['-n', `startup-${startup}`])).toBe('yes');
  });

  it('resolves a provider key from its namespace under the Role', async () => {
    const secret = await kubectl(['create', 'secret', 'generic', 'chart-provider-key', '-n', namespace, '--from-literal=api-key=sk-placeholder']);
    expect(secret.code, secret.stderr).toBe(0);
    const provider = {
      apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider',
      metadata: { name: uniqueName('keyed'), labels: { [RUN_LABEL]: run } },
      spec: { type: 'openai-compatible', model: 'm', baseURL: 'http://127.0.0.1:9/v1', secretRef: { name: 'chart-provider-key' } },
    };
    const applied = await kubectl(['apply', '-f', '-'], { input: stringify(provider) });
    expect(applied.code, applied.stderr).toBe(0);
    const ready = await waitForObject<{ status?: { conditions?: Condition[] } }>(
      ['aiprovider', provider.metadata.name], (p) => conditionOf(p, 'Ready') !== undefined, 'the provider\'s Ready condition', 60_000,
    );
    expect(conditionOf(ready, 'Ready')).toMatchObject({ status: 'True', reason: 'KeyResolved' });
  });

  it('provisions a Startup and renders its scaffold with only the chart RBAC', async () => {
    const provider = {
      apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider',
      metadata: { name: uniqueName('offline'), labels: { [RUN_LABEL]: run } },
      spec: { type: 'offline', model: 'offline-v1', maxConcurrency: 20 },
    };
    const manifest = {
      apiVersion: 'startupfactory.dev/v1alpha1',
      kind: 'Startup',
      metadata: { name: startup, labels: { [RUN_LABEL]: run } },
      spec: { displayName: 'Chart Check', industry: 'fintech', category: 'payments', template, ai: { providers: [provider.metadata.name] } },
    };
    const applied = await kubectl(['apply', '-f', '-'], { input: `${stringify(provider)}---\n${stringify(manifest)}` });
    expect(applied.code, applied.stderr).toBe(0);
    const provisioned = await waitForObject<{ status?: { conditions?: Condition[]; namespace?: string } }>(
      ['startup', startup],
      (s) => conditionOf(s, 'Provisioned')?.status === 'True' && conditionOf(s, 'TemplateRendered')?.status === 'True',
      'the Startup to be provisioned and rendered', 120_000,
    );
    const objects = await kubectl(['get', 'resourcequota,limitrange,networkpolicy,service,configmap', '-n', provisioned.status!.namespace!, '-o', 'name']);
    expect(objects.code, objects.stderr).toBe(0);
    const kinds = new Set(objects.stdout.trim().split('\n').map((line) => line.split(/[./]/)[0]));
    expect([...kinds].sort()).toEqual(['configmap', 'limitrange', 'networkpolicy', 'resourcequota', 'service']);
    // Created with no right to read it back.
    expect(Object.keys(await databaseSecret()).sort()).toEqual(['database', 'host', 'password', 'port', 'url', 'username']);
  });

  it('runs the whole pipeline through task Jobs and the gateway', async () => {
    const done = await waitForObject<{ status?: { phase?: string; progress?: string } }>(
      ['startup', startup], (s) => s.status?.phase === 'Succeeded' || s.status?.phase === 'Failed', 'the pipeline to finish', 150_000,
    );
    expect(done.status).toMatchObject({ phase: 'Succeeded' });
  });

  it('makes a hand-deleted database Secret again without reading Secrets', async () => {
    const deleted = await kubectl(['delete', 'secret', 'database', '-n', `startup-${startup}`]);
    expect(deleted.code, deleted.stderr).toBe(0);
    const again = await waitFor('the database Secret back', databaseSecret, 30_000);
    expect(Object.keys(again).sort()).toEqual(['database', 'host', 'password', 'port', 'url', 'username']);
  });

  it('serves the dashboard under the chart RBAC: it reviews tokens and reads what a Startup\'s page shows', async () => {
    expect((await kubectl(['create', 'serviceaccount', 'stranger', '-n', namespace])).code).toBe(0);
    const token = async (sa: string) => (await kubectl(['create', 'token', sa, '-n', namespace])).stdout.trim();
    const page = (t: string) => fetch(`http://127.0.0.1:${dashboardPort}/api/startups/${startup}`, { headers: { authorization: `Bearer ${t}` } });
    // The operator's own ServiceAccount may list Startups; a fresh one may not.
    const allowed = await page(await token(fullname));
    expect(allowed.status).toBe(200);
    const details = await allowed.json() as { problems: string[]; events: unknown[]; objects: { kind: string }[] };
    expect(details.problems).toEqual([]);
    expect(details.events.length).toBeGreaterThan(0);
    expect(details.objects.map((o) => o.kind)).toContain('Pod');
    expect((await page(await token('stranger'))).status).toBe(403);
  });

  it('never hits an RBAC denial', async () => {
    for (const pod of await operatorPods()) expect(await podLog(pod.metadata.name)).not.toMatch(/forbidden/i);
  });

  it('removes everything of a deleted Startup', async () => {
    expect((await kubectl(['delete', 'startup', startup, '--wait=false'])).code).toBe(0);
    await waitForGone(['startup', startup], 'the Startup to go', 120_000);
    await waitForGone(['namespace', `startup-${startup}`], 'its namespace to go', 120_000);
  });
});

afterAll(async () => {
  await kubectl(['delete', 'startup,aiprovider', '-l', `${RUN_LABEL}=${run}`, '--ignore-not-found', '--wait=false']);
  await helm(['uninstall', release, '--namespace', namespace, '--wait', '--timeout', '60s']);
  await kubectl(['delete', 'startuptemplate', template, '--ignore-not-found', '--wait=false']);
  await kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']);
});
