/**
 * What GitOps tools make of real objects: the chart's Argo CD health scripts (run in
 * fengari) and kstatus, as Flux and kpt compute it (sigs.k8s.io/cli-utils, built from
 * test/kstatus), on Startups in every phase, AIProviders and StartupTemplates read from
 * the API server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { validOutput } from '../../support/ai-fixture/replies.ts';
import { argoHealth } from '../../support/argocd-health.ts';
import { kubectl, uniqueName, waitFor } from '../../support/cluster.ts';
import { apply, startFactory, type TestFactory } from '../../support/factory.ts';
import { computeKstatus, kstatusBinary } from '../../support/kstatus.ts';
import { applyProvider, Fixtures, startMockProvider, waitForPhase } from '../../support/pipeline.ts';
import { loadTemplateDir, templateDir, toStartupTemplate } from '../../../src/templates/load.ts';

type Obj = { kind: string; metadata: { name: string; generation?: number } } & Record<string, unknown>;

let factory: TestFactory;
const fixtures = new Fixtures();
let kstatus: Promise<string>;
const oneTask = { tasks: [{ name: 'market-research', type: 'research' as const }] };
const names = {
  succeeded: uniqueName('gitops-done'),
  failed: uniqueName('gitops-401'),
  stalled: uniqueName('gitops-nokey'),
  running: uniqueName('gitops-slow'),
  suspended: uniqueName('gitops-nap'),
  queued: uniqueName('gitops-wait'),
};
const providers = { offline: uniqueName('gitops-offline'), keyless: uniqueName('gitops-keyless') };
const brokenTemplate = uniqueName('gitops-broken');

async function fetchJson(resource: string, name: string): Promise<Obj> {
  const { code, stdout, stderr } = await kubectl(['get', resource, name, '-o', 'json']);
  if (code !== 0) throw new Error(`kubectl get ${resource} ${name}: ${stderr}`);
  return JSON.parse(stdout) as Obj;
}

beforeAll(async () => {
  // The first build downloads cli-utils and compiles it: started now, awaited when needed.
  kstatus = kstatusBinary((m) => process.stderr.write(`kstatus: ${m}\n`));
  kstatus.catch(() => undefined);
  // Three slots: the stalled, running and suspended Startups hold them, so the last one
  // queues. Capacity to spare, as finished Startups keep theirs.
  factory = await startFactory(['--max-active-startups', '3', '--capacity-cpu', '64', '--capacity-memory', '64Gi']);
  await applyProvider(factory, { name: providers.offline, type: 'offline' });
  const strict = await fixtures.start({ apiKey: 'sk-the-right-one', reply: validOutput });
  const wrongKey = { name: uniqueName('gitops-wrongkey'), type: 'openai' as const, baseURL: `${strict.url}/v1`, key: 'sk-a-wrong-one', input: '1.00', output: '1.00' };
  await applyProvider(factory, wrongKey);
  // Answers slower than the provider's timeout: its task keeps running (and retrying).
  const slow = await startMockProvider(factory, fixtures, { prefix: 'gitops-slow', type: 'openai', latencyMs: 120_000, reply: validOutput });
  await apply([
    stringify({
      apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider',
      metadata: { name: providers.keyless, labels: { 'test.startupfactory.dev/run': factory.run } },
      spec: { type: 'openai', model: 'gpt-mock', baseURL: 'http://127.0.0.1:9/v1', secretRef: { name: uniqueName('no-such-secret') } },
    }),
    stringify({ ...toStartupTemplate(await loadTemplateDir(templateDir('reactnext'))), metadata: { name: brokenTemplate } }),
  ]);
  await kubectl(['patch', 'startuptemplate', brokenTemplate, '--type=json', '-p', JSON.stringify([{ op: 'add', path: '/spec/files/-', value: { path: 'broken.txt', content: '{{ never closed' } }])]);

  await apply([
    factory.manifest(names.succeeded, { ai: { providers: [providers.offline] }, pipeline: oneTask }),
    factory.manifest(names.failed, { ai: { providers: [wrongKey.name] }, pipeline: oneTask }),
  ]);
  await Promise.all([waitForPhase(factory, names.succeeded, ['Succeeded']), waitForPhase(factory, names.failed, ['Failed'])]);
  await apply([
    factory.manifest(names.stalled, { ai: { providers: [providers.keyless] }, pipeline: oneTask }),
    factory.manifest(names.running, { ai: { providers: [slow.provider.name] }, pipeline: oneTask }),
    factory.manifest(names.suspended, { ai: { providers: [providers.offline] }, pipeline: oneTask, suspend: true }),
  ]);
  await Promise.all([
    waitFor('the keyless Startup Stalled', async () => {
      const s = await factory.get(names.stalled);
      return s.status?.observedGeneration === s.metadata.generation && s.status?.conditions?.some((c) => c.type === 'Stalled' && c.status === 'True');
    }, 120_000, 500),
    waitFor('a task of the slow Startup running', async () => (await factory.get(names.running)).status?.tasks?.some((t) => t.phase === 'Running'), 120_000, 500),
    waitForPhase(factory, names.suspended, ['Suspended']),
  ]);
  await apply([factory.manifest(names.queued, { ai: { providers: [providers.offline] }, pipeline: oneTask })]);
  await waitForPhase(factory, names.queued, ['Queued']);
}, 600_000);

afterAll(async () => {
  await factory?.cleanup();
  await kubectl(['delete', 'startuptemplate', brokenTemplate, '--ignore-not-found', '--wait=false']);
  await fixtures.close();
});

describe('GitOps health of real objects', () => {
  it('Startups in every phase', async () => {
    const cases = [
      [names.succeeded, 'Succeeded', 'Healthy', 'Current'],
      [names.failed, 'Failed', 'Degraded', 'Failed'],
      [names.stalled, 'Running', 'Degraded', 'Failed'],
      [names.running, 'Running', 'Progressing', 'InProgress'],
      [names.suspended, 'Suspended', 'Suspended', 'InProgress'],
      [names.queued, 'Queued', 'Progressing', 'InProgress'],
    ] as const;
    const objects = await Promise.all(cases.map(([name]) => fetchJson('startup', name)));
    const computed = await computeKstatus(await kstatus, objects);
    const seen = await Promise.all(objects.map(async (o, i) => ({
      name: o.metadata.name,
      phase: (o.status as { phase?: string }).phase,
      argo: (await argoHealth(o)).status,
      kstatus: computed[i]!.status,
    })));
    expect(seen).toEqual(cases.map(([name, phase, argo, ks]) => ({ name, phase, argo, kstatus: ks })));
    // The messages say why, from the operator's own conditions.
    expect((await argoHealth(objects[1]!)).message).toMatch(/^TaskFailed: /);
    expect((await argoHealth(objects[2]!)).message).toMatch(/^NoReadyProvider: /);
  });

  it('AIProviders and StartupTemplates, Ready or not', async () => {
    await waitFor('the keyless provider and the broken template judged', async () => {
      const judged = await Promise.all([fetchJson('aiprovider', providers.keyless), fetchJson('startuptemplate', brokenTemplate)]);
      return judged.every((o) => (o.status as { observedGeneration?: number } | undefined)?.observedGeneration === o.metadata.generation);
    }, 60_000, 500);
    // Not Ready, they are Stalled too (only a change elsewhere helps): Flux fails at once
    // instead of waiting for them until its timeout.
    const cases = [
      ['aiprovider', providers.offline, 'Healthy', 'Current'],
      ['aiprovider', providers.keyless, 'Degraded', 'Failed'],
      ['startuptemplate', factory.template, 'Healthy', 'Current'],
      ['startuptemplate', brokenTemplate, 'Degraded', 'Failed'],
    ] as const;
    const objects = await Promise.all(cases.map(([resource, name]) => fetchJson(resource, name)));
    const computed = await computeKstatus(await kstatus, objects);
    const seen = await Promise.all(objects.map(async (o, i) => ({ name: o.metadata.name, argo: (await argoHealth(o)).status, kstatus: computed[i]!.status })));
    expect(seen).toEqual(cases.map(([, name, argo, ks]) => ({ name, argo, kstatus: ks })));
  });

  it('a Succeeded Startup edited while the operator is away: Progressing and InProgress until it looks', async () => {
    await factory.stop();
    expect((await kubectl(['patch', 'startup', names.succeeded, '--type=merge', '-p', '{"spec":{"displayName":"Edited"}}'])).code).toBe(0);
    const stale = await fetchJson('startup', names.succeeded);
    expect((stale.status as { phase: string }).phase).toBe('Succeeded');
    expect(await argoHealth(stale)).toEqual({ status: 'Progressing', message: `waiting for the operator to observe generation ${stale.metadata.generation}` });
    expect((await computeKstatus(await kstatus, [stale]))[0]!.status).toBe('InProgress');
  });
});
