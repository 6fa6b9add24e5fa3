/**
 * The pipeline against a Job cache that lags behind the API server, as it does after a
 * watch gap: status records that attempt 1 of a task was made, the cache shows no Job of
 * it. If that Job still runs, attempt 2 must not start (two attempts of one task at once);
 * if it is gone, attempt 2 must. The reconciler runs on its own here, with informers that
 * were never started standing in for the lagging Job and output caches.
 */
import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP_VERSION, startupNamespace, type AIProvider, type Startup, type StartupTemplate } from '../../../src/api/index.ts';
import { KubeClient, type KubeObject } from '../../../src/kube/client.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { PipelineReconciler } from '../../../src/pipeline/controller.ts';
import { PipelineMetrics } from '../../../src/pipeline/metrics.ts';
import { ATTEMPT_LABEL, TASK_LABEL } from '../../../src/pipeline/names.ts';
import { TokenKeyring } from '../../../src/pipeline/token.ts';
import { systemClock } from '../../../src/lib/clock.ts';
import { childMetadata } from '../../../src/provisioning/metadata.ts';
import { EventRecorder } from '../../../src/runtime/events.ts';
import { Informer } from '../../../src/runtime/informer.ts';
import { kubeConfig, kubectl, uniqueName } from '../../support/cluster.ts';

const RUN_LABEL = 'test.startupfactory.dev/run';
const run = uniqueName('lag');
const logger = createLogger({ level: 'silent' });
const client = new KubeClient(kubeConfig(), { qps: 100, burst: 200 });
const provider = uniqueName('lag-offline');
const TASK = 'market-research';
const informers: Informer<KubeObject>[] = [];

const condition = (type: string) => ({ type, status: 'True', reason: 'Test', message: 'set by the test', lastTransitionTime: new Date().toISOString() });
const jobRef = (startup: string, attempt: number) => ({ apiVersion: 'batch/v1', kind: 'Job', namespace: startupNamespace(startup), name: `${TASK}-${attempt}` });

/** A provisioned Startup whose status says attempt 1 of its one task was made; with `running`, that attempt's Job exists and runs. */
async function startupWithOneAttempt(running: boolean): Promise<Startup> {
  const name = uniqueName('lag');
  const startup = await client.create<Startup>({
    apiVersion: API_GROUP_VERSION, kind: 'Startup', metadata: { name, labels: { [RUN_LABEL]: run } },
    spec: { displayName: name, template: 'none', ai: { providers: [provider] }, pipeline: { tasks: [{ name: TASK, type: 'research' }] } },
  } as unknown as Startup);
  const namespace = startupNamespace(name);
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  // No pod is ever wanted here: the Jobs only have to exist.
  await client.create({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'no-pods', namespace }, spec: { hard: { pods: '0' } } });
  await client.applyStatus({
    apiVersion: API_GROUP_VERSION, kind: 'Startup', metadata: { name },
    status: { conditions: [condition('Provisioned'), condition('TemplateRendered')], tasks: [{ name: TASK, type: 'research', phase: 'Running', attempts: 1, job: `${TASK}-1` }] },
  }, { fieldManager: 'startup-factory-tests' });
  if (running) {
    await client.create({
      apiVersion: 'batch/v1', kind: 'Job',
      metadata: childMetadata({ name, uid: startup.metadata.uid! }, `${TASK}-1`, namespace, { [TASK_LABEL]: TASK, [ATTEMPT_LABEL]: '1' }),
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'task', image: 'startup-factory:test', args: ['debug', 'sleep', '600'] }] } } },
    });
  }
  return startup;
}

function informer<T extends KubeObject>(apiVersion: string, kind: string, start: boolean): Informer<T> {
  const i = new Informer<T>({ client, logger, apiVersion, kind, labelSelector: `${RUN_LABEL}=${run}` });
  if (start) i.start();
  informers.push(i as unknown as Informer<KubeObject>);
  return i;
}

let reconciler: PipelineReconciler;
let startups: Informer<Startup>;
let lagging: string;
let gone: string;

beforeAll(async () => {
  await client.create({
    apiVersion: API_GROUP_VERSION, kind: 'AIProvider', metadata: { name: provider, labels: { [RUN_LABEL]: run } },
    spec: { type: 'offline', model: 'offline-v1', maxConcurrency: 10 },
  });
  await client.applyStatus({ apiVersion: API_GROUP_VERSION, kind: 'AIProvider', metadata: { name: provider }, status: { conditions: [condition('Ready')] } }, { fieldManager: 'startup-factory-tests' });
  startups = informer<Startup>(API_GROUP_VERSION, 'Startup', true);
  const providers = informer<AIProvider>(API_GROUP_VERSION, 'AIProvider', true);
  reconciler = new PipelineReconciler({
    client,
    caches: {
      startups, providers, templates: informer<StartupTemplate>(API_GROUP_VERSION, 'StartupTemplate', false),
      // Never started: caches that have not caught up with anything.
      jobs: informer('batch/v1', 'Job', false), outputs: informer('v1', 'ConfigMap', false),
    },
    budget: { snapshot: async () => ({ blocked: undefined, usage: () => undefined }) },
    tokens: new TokenKeyring(async () => randomBytes(32)),
    config: {
      taskImage: 'startup-factory:test', gatewayUrl: () => 'http://127.0.0.1:9', maxTasksPerStartup: 4, maxRunningTasks: 10, taskDeadlineSeconds: 600,
      retry: { maxAttempts: 3, backoff: { baseMs: 10_000, maxMs: 300_000 } },
    },
    events: new EventRecorder({ client, logger, reportingInstance: 'cache-lag-test' }),
    metrics: new PipelineMetrics(new Registry()),
    router: { rank: (ps) => [...ps], chosen: () => undefined },
    clock: systemClock,
  });
  const made = [await startupWithOneAttempt(true), await startupWithOneAttempt(false)];
  [lagging, gone] = made.map((s) => s.metadata.name) as [string, string];
  await Promise.all([startups.waitForSync(), providers.waitForSync()]);
  // The cache must show the status written above, or the reconciler would see no attempt recorded at all.
  for (const s of made) {
    for (let i = 0; i < 100 && !startups.get(s.metadata.name)?.status?.tasks; i++) await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  await Promise.all(informers.map((i) => i.stop()));
  await kubectl(['delete', 'startups,aiproviders', '-l', `${RUN_LABEL}=${run}`, '--ignore-not-found', '--wait=false']);
  for (const name of [lagging, gone]) await kubectl(['delete', 'namespace', startupNamespace(name), '--ignore-not-found', '--wait=false']);
});

const ctx = { signal: new AbortController().signal, log: logger };

describe('a Job cache that lags behind the API server', () => {
  it('starts no second attempt while the first one\'s Job, unseen by the cache, still runs', async () => {
    await reconciler.reconcile(lagging, ctx);
    expect(await client.getOptional(jobRef(lagging, 2))).toBeUndefined();
    const task = (await client.get<Startup>({ apiVersion: API_GROUP_VERSION, kind: 'Startup', name: lagging })).status?.tasks?.[0];
    expect(task).toMatchObject({ name: TASK, phase: 'Running', attempts: 1, job: `${TASK}-1` });
  });

  it('starts the next attempt once a live read says the previous one is gone', async () => {
    await reconciler.reconcile(gone, ctx);
    expect(await client.getOptional(jobRef(gone, 2))).toBeDefined();
  });
});
