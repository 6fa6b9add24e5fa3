/**
 * The chart installed for real: the operator runs from its image (on the local cluster, as a
 * process under the pod runner) with nothing but the chart's ServiceAccount and RBAC,
 * provisions a Startup and runs its whole pipeline (offline) through task Jobs and the
 * gateway. A missing permission shows up here as a Startup that never gets there or as
 * "forbidden" in the operator's log; one too many, as a `kubectl auth can-i` that says yes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helm, kubectl, uniqueName, waitFor, waitForGone, waitForObject } from '../../support/cluster.ts';
import { RUN_LABEL } from '../../support/factory.ts';
import { chartPath, parseManifests } from './render.ts';
import { LEASE_NAME, NODE_PORTS, installChart, operatorPods, podLog, type Release } from './release.ts';

const namespace = uniqueName('sf-install');
const run = uniqueName('run');
const template = uniqueName('tpl');
const startup = uniqueName('su');
let release: Release;

type Condition = { type: string; status: string; reason?: string; message?: string };

/** The data of the Startup's database Secret, as the test's admin sees it. */
async function databaseSecret(): Promise<Record<string, string>> {
  const res = await kubectl(['get', 'secret', 'database', '-n', `startup-${startup}`, '-o', 'jsonpath={.data}']);
  if (res.code !== 0) throw new Error(res.stderr);
  return JSON.parse(res.stdout) as Record<string, string>;
}

const conditionOf = (obj: { status?: { conditions?: Condition[] } }, type: string) => obj.status?.conditions?.find((c) => c.type === type);

beforeAll(async () => {
  expect((await kubectl(['create', 'namespace', namespace])).code).toBe(0);
  // The packed built-in, under a name of this test's own: the shared cluster may hold others.
  const builtin = parseManifests(await readFile(join(chartPath, 'files', 'builtin-templates', 'reactnext.yaml'), 'utf8'))[0]!;
  const created = await kubectl(['create', '-f', '-'], { input: stringify({ ...builtin, metadata: { name: template } }) });
  expect(created.code, created.stderr).toBe(0);
  // The chart's defaults but for what the shared cluster needs (release.ts): two replicas.
  release = await installChart({ namespace, run, nodePorts: NODE_PORTS.install });
});

describe('helm install', () => {
  it('runs two replicas under the chart ServiceAccount, each on an address of its own, and one takes the leader Lease', async () => {
    const pods = await operatorPods(release);
    expect(pods).toHaveLength(2);
    for (const pod of pods) expect(pod).toMatchObject({ spec: { serviceAccountName: release.fullname }, status: { phase: 'Running' } });
    expect(new Set(pods.map((p) => p.status.podIP)).size).toBe(2);
    // POD_NAME reaches the operator through the downward API and becomes its identity.
    await waitForObject<{ spec: { holderIdentity?: string } }>(
      ['lease', LEASE_NAME, '-n', namespace], (lease) => pods.some((p) => lease.spec.holderIdentity === p.metadata.name), 'an operator to lead',
    );
  });

  it('labels the leading pod, which the gateway Service selects', async () => {
    await waitFor('the leader label', async () => (await operatorPods(release)).some((p) => p.metadata.labels?.['startupfactory.dev/leader'] === 'true'), 30_000);
  });

  it('may read Secrets only by name in its own namespace, and only create them elsewhere', async () => {
    const can = async (verb: string, where: string[]) => {
      const res = await kubectl(['auth', 'can-i', verb, 'secrets', ...where, '--as', release.serviceAccount]);
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
    // Any replica serves it, the standby too: ask them all.
    const addresses = (await operatorPods(release)).map((p) => p.status.podIP);
    const page = (t: string, address = addresses[0]) => fetch(`http://${address}:${release.ports.dashboard}/api/startups/${startup}`, { headers: { authorization: `Bearer ${t}` } });
    // The operator's own ServiceAccount may list Startups; a fresh one may not.
    for (const address of addresses.slice(1)) expect((await page(await token(release.fullname), address)).status).toBe(200);
    const allowed = await page(await token(release.fullname));
    expect(allowed.status).toBe(200);
    const details = await allowed.json() as { problems: string[]; events: unknown[]; objects: { kind: string }[] };
    expect(details.problems).toEqual([]);
    expect(details.events.length).toBeGreaterThan(0);
    expect(details.objects.map((o) => o.kind)).toContain('Pod');
    expect((await page(await token('stranger'))).status).toBe(403);
  });

  it('never hits an RBAC denial', async () => {
    for (const pod of await operatorPods(release)) expect(await podLog(namespace, pod.metadata.name)).not.toMatch(/forbidden/i);
  });

  it('removes everything of a deleted Startup', async () => {
    expect((await kubectl(['delete', 'startup', startup, '--wait=false'])).code).toBe(0);
    await waitForGone(['startup', startup], 'the Startup to go', 120_000);
    await waitForGone(['namespace', `startup-${startup}`], 'its namespace to go', 120_000);
  });
});

afterAll(async () => {
  await kubectl(['delete', 'startup,aiprovider', '-l', `${RUN_LABEL}=${run}`, '--ignore-not-found', '--wait=false']);
  if (release) await helm(['uninstall', release.name, '--namespace', namespace, '--wait', '--timeout', '60s']);
  await kubectl(['delete', 'startuptemplate', template, '--ignore-not-found', '--wait=false']);
  await kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']);
});
