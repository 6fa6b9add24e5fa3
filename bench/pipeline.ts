/**
 * The pipeline's figures, with the operator running in this process against the cluster
 * in KUBECONFIG (else the local control plane) and its task Jobs run by the pod runner:
 *
 * 1. the offline default pipeline of one Startup, apply to Succeeded, and the operator's
 *    own share of it: from a task's last dependency output to its Job, per task;
 * 2. the gateway's added latency per call (median, p99) against calling the mock
 *    provider directly, with the budget reservation and settlement on every call;
 * 3. ten Startups at once on a mock provider answering in one second: the peak of calls
 *    in flight under the default limits, and the makespan.
 *
 * BENCH_FLAGS adds operator flags (e.g. "--api-qps 500 --max-running-tasks 40").
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import OpenAI from 'openai';
import type { Startup, StartupTemplate } from '../src/api/index.ts';
import type { KubeObject } from '../src/kube/client.ts';
import { createLogger } from '../src/observability/logger.ts';
import { Metrics } from '../src/observability/metrics.ts';
import { parseOperatorConfig } from '../src/operator/config.ts';
import { buildOperator } from '../src/operator/operator.ts';
import { expandPipeline, pipelineOf } from '../src/pipeline/dag.ts';
import { Informer } from '../src/runtime/informer.ts';
import { AiFixture } from '../test/support/ai-fixture/server.ts';
import { validOutput } from '../test/support/ai-fixture/replies.ts';
import { benchCluster, fmtMs, fmtS, pct } from './_setup.ts';

const RUN_LABEL = 'bench.startupfactory.dev/run';
const run = `p${Date.now().toString(36)}`;
const logger = createLogger({ level: (process.env.BENCH_LOG_LEVEL as 'debug' | undefined) ?? 'silent' });
const { kc, client, template } = await benchCluster(run);

const port = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
});
const namespace = `sf-bench-${run}`;
const config = parseOperatorConfig([
  '--namespace', namespace, '--metrics-port', '0', '--bind-address', '127.0.0.1', '--log-level', 'silent', '--gateway-port', String(port),
  '--startup-selector', `${RUN_LABEL}=${run}`, '--max-active-startups', '20', '--capacity-cpu', '1000', '--capacity-memory', '1Ti', '--leader-elect=false',
  ...(process.env.BENCH_FLAGS ?? '').split(' ').filter(Boolean),
], {});
const operator = buildOperator(config, { kubeConfig: kc, logger, metrics: new Metrics({ defaultMetrics: false }), shutdownDeadlineMs: 5_000 });
const stop = new AbortController();
const running = operator.manager.runUntil(stop.signal);
const mock = new AiFixture({ apiKey: 'sk-bench', reply: validOutput });
await mock.start();

// Our own informers, so times are taken when the watch events arrive, not on a polling tick.
const seen = { jobs: new Map<string, number>(), outputs: new Map<string, number>(), done: new Map<string, number>() };
const jobs = new Informer<KubeObject>({ client, logger, apiVersion: 'batch/v1', kind: 'Job', labelSelector: 'startupfactory.dev/task' });
const outputs = new Informer<KubeObject>({ client, logger, apiVersion: 'v1', kind: 'ConfigMap', labelSelector: 'startupfactory.dev/output=true', metadataOnly: true });
const startups = new Informer<Startup>({ client, logger, apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', labelSelector: `${RUN_LABEL}=${run}` });
const key = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.labels?.['startupfactory.dev/task']}`;
jobs.addHandlers({ add: (j) => { if (!seen.jobs.has(key(j))) seen.jobs.set(key(j), performance.now()); } });
outputs.addHandlers({ add: (o) => seen.outputs.set(key(o), performance.now()) });
const finished = (s: Startup) => { if (s.status?.phase === 'Succeeded' && !seen.done.has(s.metadata.name)) seen.done.set(s.metadata.name, performance.now()); };
startups.addHandlers({ add: finished, update: finished });
for (const i of [jobs, outputs, startups]) i.start();
await Promise.all([jobs, outputs, startups].map((i) => i.waitForSync()));

async function applyAll(docs: object[]): Promise<void> {
  for (const d of docs) await client.serverSideApply(d as KubeObject, { force: true, fieldManager: 'bench' });
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function startup(name: string, providers: string[], extra: object = {}): object {
  return { apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', metadata: { name, labels: { [RUN_LABEL]: run } }, spec: { displayName: name, template, industry: 'fintech', ai: { providers }, ...extra } };
}

try {
  for (let i = 0; i < 100 && !(await client.getOptional({ apiVersion: 'v1', kind: 'Namespace', name: namespace })); i++) await new Promise((r) => setTimeout(r, 100));
  const labels = { [RUN_LABEL]: run };
  await applyAll([
    { apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider', metadata: { name: `${run}-offline`, labels }, spec: { type: 'offline', model: 'offline-v1', maxConcurrency: 100 } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${run}-mock-key`, namespace }, stringData: { 'api-key': 'sk-bench' } },
    {
      apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider', metadata: { name: `${run}-mock`, labels },
      spec: { type: 'openai', model: 'mock', baseURL: `${mock.url}/v1`, secretRef: { name: `${run}-mock-key` }, pricing: { inputPerMillionTokens: '2.50', outputPerMillionTokens: '10.00' }, maxConcurrency: 100 },
    },
  ]);
  await new Promise((r) => setTimeout(r, 1500));

  // 1. One offline pipeline.
  const solo = `${run}-solo`;
  const applied = performance.now();
  await applyAll([startup(solo, [`${run}-offline`])]);
  await until('the offline pipeline', () => seen.done.has(solo), 300_000);
  const wall = seen.done.get(solo)! - applied;
  const s = await client.get<Startup>({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', name: solo });
  const pipeline = pipelineOf(s.spec, await client.get<StartupTemplate>({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'StartupTemplate', name: template }));
  const items = s.status?.tasks?.filter((t) => t.name.startsWith('codegen-')).length;
  const instances = expandPipeline(pipeline?.tasks ?? [], (t) => (t === 'decompose' ? items : undefined));
  const ns = `startup-${solo}`;
  const schedule: number[] = [];
  const runs: number[] = [];
  for (const i of instances) {
    const job = seen.jobs.get(`${ns}/${i.name}`);
    const out = seen.outputs.get(`${ns}/${i.name}`);
    if (job !== undefined && out !== undefined) runs.push(out - job);
    const deps = i.dependsOn.map((d) => seen.outputs.get(`${ns}/${d}`)).filter((t): t is number => t !== undefined);
    if (job !== undefined && deps.length > 0) schedule.push(job - Math.max(...deps));
  }
  schedule.sort((a, b) => a - b);
  runs.sort((a, b) => a - b);
  console.log(`offline pipeline, ${instances.length} tasks: apply -> Succeeded ${fmtS(wall)}`);
  console.log(`  operator overhead per task (last dependency's output seen -> the task's Job seen): p50 ${fmtMs(pct(schedule, 50))}, p95 ${fmtMs(pct(schedule, 95))}, max ${fmtMs(schedule.at(-1)!)}`);
  console.log(`  attempt (Job seen -> output seen: pod start, node boot, the call, the output stored): p50 ${fmtS(pct(runs, 50))}, max ${fmtS(runs.at(-1)!)}`);

  // 2. The gateway's added latency per call.
  const racer = `${run}-direct`;
  await applyAll([startup(racer, [`${run}-mock`], { suspend: true, pipeline: { tasks: [{ name: 'market-research', type: 'research' }] } })]);
  await until('the suspended Startup', () => startups.get(racer)?.status?.conditions?.some((c) => c.type === 'Provisioned' && c.status === 'True') === true, 60_000);
  const owner = startups.get(racer)!;
  const job = await client.create<KubeObject>({
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: {
      name: 'market-research-1', namespace: `startup-${racer}`,
      labels: { 'app.kubernetes.io/managed-by': 'startup-factory', 'startupfactory.dev/startup': racer, 'startupfactory.dev/task': 'market-research', 'startupfactory.dev/attempt': '1' },
      ownerReferences: [{ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', name: racer, uid: owner.metadata.uid!, controller: true }],
    },
    spec: { suspend: true, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'task', image: 'startup-factory:bench', args: ['debug', 'exit', '0'] }] } } },
  });
  const token = await operator.keyring.mint({ namespace: `startup-${racer}`, job: 'market-research-1', uid: job.metadata.uid! });
  const request = { model: 'mock', messages: [{ role: 'user' as const, content: `bench ${randomBytes(8).toString('hex')}` }], max_tokens: 256, response_format: { type: 'json_schema' as const, json_schema: { name: 'research', schema: {} } } };
  const timeCalls = async (c: OpenAI, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await c.chat.completions.create(request);
      out.push(performance.now() - t);
    }
    return out.sort((a, b) => a - b);
  };
  const direct = new OpenAI({ apiKey: 'sk-bench', baseURL: `${mock.url}/v1`, maxRetries: 0 });
  const viaGateway = new OpenAI({ apiKey: token, baseURL: `${operator.gateway.url()}/providers/${run}-mock/v1`, maxRetries: 0 });
  await timeCalls(direct, 20);
  await timeCalls(viaGateway, 20);
  const d = await timeCalls(direct, 300);
  const g = await timeCalls(viaGateway, 300);
  console.log(`gateway, 300 sequential calls: direct p50 ${fmtMs(pct(d, 50))} p99 ${fmtMs(pct(d, 99))}; through the gateway p50 ${fmtMs(pct(g, 50))} p99 ${fmtMs(pct(g, 99))}`);
  console.log(`  added per call (reservation written before forwarding, settlement after): p50 ${fmtMs(pct(g, 50) - pct(d, 50))}, p99 ${fmtMs(pct(g, 99) - pct(d, 99))}`);

  // 3. Ten Startups at once, the mock answering in one second.
  mock.options.latencyMs = 1000;
  mock.reset();
  const ten = Array.from({ length: 10 }, (_, i) => `${run}-ten-${i}`);
  const tenStarted = performance.now();
  await applyAll(ten.map((n) => startup(n, [`${run}-mock`])));
  await until('ten pipelines', () => ten.every((n) => seen.done.has(n)), 900_000);
  const makespan = Math.max(...ten.map((n) => seen.done.get(n)!)) - tenStarted;
  console.log(`10 Startups at once (mock answering in 1 s, default limits: 4 per startup, 20 in all): peak calls in flight ${mock.maxInFlight}, ${mock.requests.length} calls, makespan ${fmtS(makespan)}`);
  console.log(JSON.stringify({ bench: 'pipeline', offlineWallMs: Math.round(wall), overheadP50Ms: pct(schedule, 50), gatewayAddedP50Ms: pct(g, 50) - pct(d, 50), gatewayAddedP99Ms: pct(g, 99) - pct(d, 99), peakInFlight: mock.maxInFlight, tenMakespanMs: Math.round(makespan) }));
} finally {
  stop.abort();
  await running;
  for (const i of [jobs, outputs, startups]) await i.stop();
  await mock.close();
  for (const s of (await client.list('startupfactory.dev/v1alpha1', 'Startup', { labelSelector: `${RUN_LABEL}=${run}` })).items) {
    await client.delete({ apiVersion: s.apiVersion, kind: s.kind, name: s.metadata.name! });
  }
  for (const p of (await client.list('startupfactory.dev/v1alpha1', 'AIProvider', { labelSelector: `${RUN_LABEL}=${run}` })).items) {
    await client.delete({ apiVersion: p.apiVersion, kind: p.kind, name: p.metadata.name! });
  }
  await client.delete({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
  await client.delete({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'StartupTemplate', name: template });
}
