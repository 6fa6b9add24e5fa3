/**
 * The pipeline's figures, with the operator running in this process against the cluster
 * in KUBECONFIG (else the local control plane) and its task Jobs run by the pod runner,
 * against a mock provider that answers every call after a fixed latency:
 *
 * 1. the default pipeline of one Startup (a decompose of 8 work items, so codegen fans out
 *    to 8), run with the DAG and the fan-out under the default limits, against the very
 *    same tasks run one after another (--max-tasks-per-startup 1): the two makespans and
 *    their ratio, and the operator's own share per task (from a task's last dependency
 *    output to its Job);
 * 2. the gateway's added latency per call (median, p99) against calling the mock directly,
 *    300 calls back to back on one Startup with no upstream latency, the hardest case for
 *    the budget spares (each call takes one before a write can make another);
 * 3. twenty Startups at once, the mock answering in 10 s (BENCH_LOAD_LATENCY_MS): the peak
 *    of calls in flight under the default limits (4 per startup, 20 in all), the makespan,
 *    the overhead per task under load, and what the gateway added to each call under it
 *    (its own overhead histogram, every observation);
 * 4. budget decisions per second: a ledger store reserving and settling 4000 calls, 100 in
 *    flight over those twenty Startups' ledgers, with its reserve latency.
 *
 * BENCH_FLAGS adds operator flags to the parallel runs (e.g. "--max-running-tasks 100
 * --max-tasks-per-startup 8" to see how far the limits carry); BENCH_LATENCY_MS sets the
 * mock's latency (default 2000).
 */
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import OpenAI from 'openai';
import type { Histogram } from 'prom-client';
import type { Startup, StartupTemplate } from '../src/api/index.ts';
import { KubeClient, type KubeObject } from '../src/kube/client.ts';
import { LedgerStore } from '../src/gateway/ledger-store.ts';
import { SPARE_PREFIX } from '../src/gateway/ledger.ts';
import { systemClock } from '../src/lib/clock.ts';
import type { StartupRef } from '../src/provisioning/metadata.ts';
import { createLogger } from '../src/observability/logger.ts';
import { expandPipeline, pipelineOf } from '../src/pipeline/dag.ts';
import { Informer } from '../src/runtime/informer.ts';
import { AiFixture, type FixtureRequest } from '../test/support/ai-fixture/server.ts';
import { taskTypeOf, validOutput } from '../test/support/ai-fixture/replies.ts';
import { RUN_LABEL, applyAll, benchCluster, cleanupRun, fmtMs, fmtS, freePort, pct, until, withOperator } from './_setup.ts';

const run = `p${Date.now().toString(36)}`;
const logger = createLogger({ level: (process.env.BENCH_LOG_LEVEL as 'debug' | undefined) ?? 'silent' });
const { kc, client, template } = await benchCluster(run);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 2000);
// Model calls take tens of seconds; at two, 20 Startups' task processes (about a CPU-second
// each to start on this machine) could not overlap enough to show the limits at work.
const LOAD_LATENCY_MS = Number(process.env.BENCH_LOAD_LATENCY_MS ?? 10_000);
const WORK_ITEMS = 8;
const extraFlags = (process.env.BENCH_FLAGS ?? '').split(' ').filter(Boolean);
const namespace = `sf-bench-${run}`;
const bench = { kc, run, namespace, gatewayPort: await freePort() };

/** A model's decompose may list up to 16 items; this one lists 8, each its own page. */
function reply(req: FixtureRequest) {
  const answer = validOutput(req);
  if (taskTypeOf(req) !== 'decompose') return answer;
  const [first] = JSON.parse(answer.content).workItems;
  const workItems = Array.from({ length: WORK_ITEMS }, (_, i) => ({ ...first, id: `wi-${i + 1}`, title: `Feature ${i + 1}`, files: [`frontend/app/feature-${i + 1}/page.tsx`] }));
  return { ...answer, content: JSON.stringify({ workItems }) };
}
const mock = new AiFixture({ apiKey: 'sk-bench', reply, latencyMs: LATENCY_MS });
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

const provider = `${run}-mock`;
function startup(name: string, extra: object = {}): object {
  return { apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', metadata: { name, labels: { [RUN_LABEL]: run } }, spec: { displayName: name, template, industry: 'fintech', ai: { providers: [provider] }, ...extra } };
}

/** Applies Startups, waits for all to succeed; the makespan and the operator's share per task (it could start -> its Job seen). */
async function pipelines(names: string[]): Promise<{ makespan: number; overhead: number[]; slowest: string; tasks: number }> {
  const started = performance.now();
  await applyAll(client, names.map((n) => startup(n)));
  await until(`${names.length} pipeline(s)`, () => names.every((n) => seen.done.has(n)), 1_800_000);
  const makespan = Math.max(...names.map((n) => seen.done.get(n)!)) - started;
  const overhead: number[] = [];
  let slowest = { task: '', ms: -1 };
  let tasks = 0;
  const tpl = await client.get<StartupTemplate>({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'StartupTemplate', name: template });
  const stored = [...seen.outputs].filter(([k]) => names.some((n) => k.startsWith(`startup-${n}/`))).map(([, t]) => t);
  for (const name of names) {
    const s = startups.get(name)!;
    const instances = expandPipeline(pipelineOf(s.spec, tpl)?.tasks ?? [], (t) => (t === 'decompose' ? WORK_ITEMS : undefined));
    tasks += instances.length;
    const ns = `startup-${name}`;
    for (const i of instances) {
      const job = seen.jobs.get(`${ns}/${i.name}`);
      const deps = i.dependsOn.map((d) => seen.outputs.get(`${ns}/${d}`)).filter((t): t is number => t !== undefined);
      if (job === undefined || deps.length === 0) continue;
      // A task waiting for a slot could start once its dependencies were done and the last
      // task before it (of any of these startups) freed one: the operator's share is from then.
      const freed = Math.max(...stored.filter((t) => t <= job));
      const ms = job - Math.max(...deps, freed);
      overhead.push(ms);
      if (ms > slowest.ms) slowest = { task: `${name}/${i.name}`, ms };
    }
  }
  return { makespan, overhead: overhead.sort((a, b) => a - b), slowest: slowest.task, tasks };
}

/** Reservations decided per second by a ledger store of its own, `inFlight` calls at a time, each settled as soon as it is admitted. */
async function budgetDecisions(owners: StartupRef[], calls: number, inFlight: number) {
  const counted = new KubeClient(kc, { qps: 1000, burst: 2000 });
  const store = new LedgerStore({ client: counted, namespace, holder: `${run}-ledger`, clock: systemClock, logger, onChange: () => undefined });
  const limits = { callsPerHour: 1_000_000, costPerDayMicros: 1_000_000_000_000 };
  await Promise.all(owners.map((o) => store.snapshot(o)));
  const writes = counted.requestCounts().mutating;
  const times: number[] = [];
  let spared = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    for (let i = next++; i < calls; i = next++) {
      const owner = owners[i % owners.length]!;
      const t = performance.now();
      const r = await store.reserve(owner, limits, { id: `bench-${i}`, task: 'market-research', holder: `${run}-ledger`, costMicros: 5000, deadline: Date.now() + 600_000 });
      times.push(performance.now() - t);
      if (!r.ok) throw new Error(r.refusal.message);
      if (r.id.startsWith(SPARE_PREFIX)) spared++;
      store.settle(owner, r.id, { kind: 'usage', inputTokens: 100, outputTokens: 100, costMicros: 1500 }, 'market-research');
    }
  }));
  const elapsed = performance.now() - started;
  await store.stop(10_000);
  times.sort((a, b) => a - b);
  return { perSecond: calls / (elapsed / 1000), p50: pct(times, 50), p99: pct(times, 99), spared, writes: counted.requestCounts().mutating - writes };
}

try {
  const labels = { [RUN_LABEL]: run };
  // Once the first operator made its namespace.
  const setup = async () => {
    for (let i = 0; i < 100 && !(await client.getOptional({ apiVersion: 'v1', kind: 'Namespace', name: namespace })); i++) await new Promise((r) => setTimeout(r, 100));
    await applyAll(client, [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${run}-mock-key`, namespace }, stringData: { 'api-key': 'sk-bench' } },
      {
        apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider', metadata: { name: provider, labels },
        spec: { type: 'openai', model: 'mock', baseURL: `${mock.url}/v1`, secretRef: { name: `${run}-mock-key` }, pricing: { inputPerMillionTokens: '2.50', outputPerMillionTokens: '10.00' }, maxConcurrency: 100 },
      },
    ]);
    await new Promise((r) => setTimeout(r, 1500));
  };

  // 1. The same pipeline one task after another, then as a DAG with fan-out.
  const sequential = await withOperator(bench, ['--max-tasks-per-startup', '1'], async () => {
    await setup();
    return pipelines([`${run}-seq`]);
  });
  const dag = await withOperator(bench, extraFlags, () => pipelines([`${run}-dag`]));
  const ratio = sequential.makespan / dag.makespan;
  console.log(`default pipeline, ${dag.tasks} tasks (codegen fanned out to ${WORK_ITEMS}), mock answering in ${fmtS(LATENCY_MS)}:`);
  console.log(`  one after another (--max-tasks-per-startup 1): makespan ${fmtS(sequential.makespan)}`);
  console.log(`  DAG and fan-out (${extraFlags.length ? extraFlags.join(' ') : 'default limits'}): makespan ${fmtS(dag.makespan)}, ${ratio.toFixed(2)}x faster (goal 2x; the critical path is 7 calls deep, ${WORK_ITEMS} codegens in ${Math.ceil(WORK_ITEMS / 4)} waves of 4)`);
  console.log(`  operator overhead per task (its dependencies' outputs and a free slot seen -> its Job seen): p50 ${fmtMs(pct(dag.overhead, 50))}, p95 ${fmtMs(pct(dag.overhead, 95))}, max ${fmtMs(dag.overhead.at(-1)!)} (${dag.slowest})`);

  // 2 and 3 under one operator.
  const [g, d, twenty] = await withOperator(bench, extraFlags, async (operator) => {
    const racer = `${run}-direct`;
    await applyAll(client, [startup(racer, { suspend: true, pipeline: { tasks: [{ name: 'market-research', type: 'research' }] } })]);
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
    // Each request different, so the response cache answers none of them.
    const request = () => ({ model: 'mock', messages: [{ role: 'user' as const, content: `bench ${randomBytes(8).toString('hex')}` }], max_tokens: 256, response_format: { type: 'json_schema' as const, json_schema: { name: 'research', schema: {} } } });
    const timeCalls = async (c: OpenAI, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await c.chat.completions.create(request());
        out.push(performance.now() - t);
      }
      return out.sort((a, b) => a - b);
    };
    mock.options.latencyMs = 0;
    const direct = new OpenAI({ apiKey: 'sk-bench', baseURL: `${mock.url}/v1`, maxRetries: 0 });
    const viaGateway = new OpenAI({ apiKey: token, baseURL: `${operator.gateway.url()}/providers/${provider}/v1`, maxRetries: 0 });
    await timeCalls(direct, 20);
    await timeCalls(viaGateway, 20);
    const directTimes = await timeCalls(direct, 300);
    const gatewayTimes = await timeCalls(viaGateway, 300);

    mock.options.latencyMs = LOAD_LATENCY_MS;
    mock.reset();
    // The gateway's own measure of what it adds, every call's exactly (the buckets are too coarse for a p99), for the load alone.
    const histogram = operator.manager.metrics.registry.getSingleMetric('startup_factory_gateway_overhead_seconds') as Histogram<'provider'>;
    const gatewayOverhead: number[] = [];
    const observe = histogram.observe.bind(histogram);
    histogram.observe = ((labels: { provider: string }, value: number) => {
      gatewayOverhead.push(value * 1000);
      observe(labels, value);
    }) as typeof histogram.observe;
    const reservations = async () => {
      const { values } = await operator.manager.metrics.registry.getSingleMetric('startup_factory_budget_reservations_total')!.get();
      const of = (path: string) => values.filter((v) => v.labels.path === path).reduce((n, v) => n + v.value, 0);
      return { spare: of('spare'), write: of('write') };
    };
    const names = Array.from({ length: 20 }, (_, i) => `${run}-twenty-${i}`);
    const before = await reservations();
    // The operator shares this process's event loop: how long it was kept from turning bounds what any callback, the gateway's included, waits.
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const loaded = await pipelines(names);
    loop.disable();
    const after = await reservations();
    const waited = { spare: after.spare - before.spare, write: after.write - before.write };
    const loopDelay = { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
    return [gatewayTimes, directTimes, { ...loaded, gatewayOverhead: gatewayOverhead.sort((a, b) => a - b), waited, loopDelay }] as const;
  });
  console.log(`gateway, 300 sequential calls: direct p50 ${fmtMs(pct(d, 50))} p99 ${fmtMs(pct(d, 99))}; through the gateway p50 ${fmtMs(pct(g, 50))} p99 ${fmtMs(pct(g, 99))}`);
  console.log(`  added per call (worst case on record before forwarding, on a spare or by a write; settlement after): p50 ${fmtMs(pct(g, 50) - pct(d, 50))}, p99 ${fmtMs(pct(g, 99) - pct(d, 99))} (goal p99 5 ms)`);
  console.log(`20 Startups at once, mock answering in ${fmtS(LOAD_LATENCY_MS)} (${extraFlags.length ? extraFlags.join(' ') : 'default limits: 4 per startup, 20 in all'}): peak calls in flight ${mock.maxInFlight}, ${mock.requests.length} calls, makespan ${fmtS(twenty.makespan)}, overhead per task p50 ${fmtMs(pct(twenty.overhead, 50))} p95 ${fmtMs(pct(twenty.overhead, 95))}`);
  const loadP50 = pct(twenty.gatewayOverhead, 50);
  const loadP99 = pct(twenty.gatewayOverhead, 99);
  console.log(`  gateway overhead per call under this load (arrival to sent upstream but for the body's own arrival, startup_factory_gateway_overhead_seconds, ${twenty.gatewayOverhead.length} calls): p50 ${fmtMs(loadP50)}, p99 ${fmtMs(loadP99)}, max ${fmtMs(twenty.gatewayOverhead.at(-1)!)} (goal p99 5 ms); ${twenty.waited.spare} on a spare made ahead, ${twenty.waited.write} waited for a ledger write`);
  console.log(`  the process's event loop meanwhile (operator, gateway and this bench share it), delay p50 ${fmtMs(twenty.loopDelay.p50)}, p99 ${fmtMs(twenty.loopDelay.p99)}, max ${fmtMs(twenty.loopDelay.max)}`);

  // 4. The ledger alone, as the gateway drives it: a reservation and a settlement per call,
  // 100 calls in flight spread over the twenty Startups' ledgers.
  const owners = Array.from({ length: 20 }, (_, i) => startups.get(`${run}-twenty-${i}`)!).map((s) => ({ name: s.metadata.name, uid: s.metadata.uid! }));
  const budget = await budgetDecisions(owners, 4000, 100);
  console.log(`budget decisions, 4000 calls, 100 in flight over 20 ledgers: ${budget.perSecond.toFixed(0)} reservations/s (each settled too), reserve p50 ${fmtMs(budget.p50)} p99 ${fmtMs(budget.p99)}, ${budget.spared} on a spare, ${budget.writes} ledger writes`);
  console.log(JSON.stringify({
    bench: 'pipeline', latencyMs: LATENCY_MS, flags: extraFlags, sequentialMakespanMs: Math.round(sequential.makespan), dagMakespanMs: Math.round(dag.makespan), speedup: Number(ratio.toFixed(2)),
    overheadP50Ms: Math.round(pct(dag.overhead, 50)), overheadP95Ms: Math.round(pct(dag.overhead, 95)),
    gatewayAddedP50Ms: Number((pct(g, 50) - pct(d, 50)).toFixed(1)), gatewayAddedP99Ms: Number((pct(g, 99) - pct(d, 99)).toFixed(1)),
    gatewayLoadP50Ms: Number(loadP50.toFixed(2)), gatewayLoadP99Ms: Number(loadP99.toFixed(2)), gatewayLoadOnSpare: twenty.waited.spare, loopDelayP99Ms: Number(twenty.loopDelay.p99.toFixed(2)), gatewayLoadWrites: twenty.waited.write,
    loadLatencyMs: LOAD_LATENCY_MS, twentyPeakInFlight: mock.maxInFlight, twentyMakespanMs: Math.round(twenty.makespan), twentyOverheadP50Ms: Math.round(pct(twenty.overhead, 50)),
    budgetDecisionsPerSecond: Math.round(budget.perSecond), budgetReserveP99Ms: Number(budget.p99.toFixed(1)), budgetSpared: budget.spared, budgetWrites: budget.writes,
  }));
} finally {
  for (const i of [jobs, outputs, startups]) await i.stop();
  await mock.close();
  await cleanupRun(client, run, namespace, template);
}
