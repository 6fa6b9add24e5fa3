/**
 * `npm run bench -- provision [--n 100]`: provisioning against the physical limit.
 *
 * N Startups (reactnext, ClusterIP) applied at once through the operator running in this
 * process, until every one is provisioned (objects applied, scaffold rendered); suspended,
 * so that no pipeline Job, task pod or token competes with provisioning for the API
 * server and the machine's cores (the pipeline under load is bench:pipeline's); then a
 * tight client server-side-applies the very same objects (read back from what the
 * operator wrote, into namespaces of its own) with the same concurrency as the
 * operator's workers, one object after another per Startup as a reconcile does. The
 * ratio of the two times is the operator's overhead over the API server's own cost.
 * Then, at rest: a resync of every Startup and the writes it caused (goal 0), from the
 * operator's client and from the API server's own metrics; memory; reconcile latency;
 * and the time to delete them all. Prints a table and, last, one line of JSON.
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { Startup } from '../src/api/index.ts';
import { getCondition } from '../src/api/conditions.ts';
import { buildOperator } from '../src/operator/operator.ts';
import { Informer } from '../src/runtime/informer.ts';
import type { KubeClient, KubeObject } from '../src/kube/client.ts';
import { createLogger } from '../src/observability/logger.ts';
import { Metrics } from '../src/observability/metrics.ts';
import { parseOperatorConfig } from '../src/operator/config.ts';
import { MANAGED_SELECTOR } from '../src/provisioning/metadata.ts';
import { binDir } from '../cluster/paths.ts';
import { RUN_LABEL, benchCluster, cleanupRun, fmtMs, fmtS as fmt, pct } from './_setup.ts';

const { values: args } = parseArgs({ args: process.argv.slice(2), options: { n: { type: 'string', default: '100' }, workers: { type: 'string', default: '4' }, 'api-qps': { type: 'string', default: '1000' } } });
const N = Number(args.n);
const WORKERS = Number(args.workers);
if (!Number.isInteger(N) || N < 1 || !Number.isInteger(WORKERS) || WORKERS < 1) throw new Error('--n and --workers must be positive integers');

const run = `b${Date.now().toString(36)}`;
const logger = createLogger({ level: (process.env.BENCH_LOG_LEVEL as 'debug' | undefined) ?? 'silent' });
const { kc, client, template } = await benchCluster(run);

const config = parseOperatorConfig([
  '--namespace', `sf-bench-${run}`, '--metrics-port', '0', '--dashboard-port', '0', '--bind-address', '127.0.0.1', '--log-level', 'silent',
  '--startup-selector', `${RUN_LABEL}=${run}`, '--max-active-startups', String(N), '--capacity-cpu', '100000', '--capacity-memory', '100Ti',
  '--workers', String(WORKERS), '--leader-elect=false',
  // The limit is the API server's, not the client's: at the default 50 per second, 100 Startups' 17 requests each take 34 s by themselves.
  '--api-qps', args['api-qps']!, '--api-burst', String(2 * Number(args['api-qps'])),
], {});
const metrics = new Metrics({ defaultMetrics: false });
// Every reconcile's own duration, exactly (the histogram's buckets are too coarse for a p99).
const reconciles: number[] = [];
const observe = metrics.reconcileDuration.observe.bind(metrics.reconcileDuration);
metrics.reconcileDuration.observe = ((labels: { controller: string }, value: number) => {
  if (labels.controller === 'startup') reconciles.push(value * 1000);
  observe(labels, value);
}) as typeof metrics.reconcileDuration.observe;
const operator = buildOperator(config, { kubeConfig: kc, logger, metrics, shutdownDeadlineMs: 5_000 });
const stop = new AbortController();
const running = operator.manager.runUntil(stop.signal);

const provisionedAt = new Map<string, number>();
const watcher = new Informer<Startup>({ client, logger, apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', labelSelector: `${RUN_LABEL}=${run}` });
const provisioned = (s: Startup) => getCondition(s.status?.conditions, 'Provisioned')?.status === 'True' && getCondition(s.status?.conditions, 'TemplateRendered')?.status === 'True';
const note = (s: Startup) => { if (!provisionedAt.has(s.metadata.name) && provisioned(s)) provisionedAt.set(s.metadata.name, performance.now()); };
watcher.addHandlers({ add: note, update: note });
watcher.start();
await watcher.waitForSync();
await until(() => operator.startups.startups.hasSynced(), 30_000, 'the operator\'s caches');

const names = Array.from({ length: N }, (_, i) => `${run}-${i}`);
const KINDS: [string, string][] = [
  ['v1', 'ResourceQuota'], ['v1', 'LimitRange'], ['networking.k8s.io/v1', 'NetworkPolicy'], ['v1', 'Service'],
  ['v1', 'ServiceAccount'], ['v1', 'ConfigMap'], ['v1', 'Secret'],
];

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${fmt(timeoutMs)} waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs `work` over `items` with `workers` in flight, as the operator's work queue does. */
async function pool<T>(items: readonly T[], workers: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

function serverMetrics(): string {
  return execFileSync(`${binDir()}/kubectl`, ['get', '--raw', '/metrics'], { env: { ...process.env, KUBECONFIG: process.env.KUBECONFIG ?? `${process.cwd()}/.cluster/kubeconfig` }, maxBuffer: 256 * 1024 * 1024 }).toString();
}

/**
 * CPU seconds the API server's process has used, from its own /metrics (on the local
 * control plane that process is etcd and the controller manager too): with the client's
 * own, where each half's time went.
 */
function serverCpuSeconds(text = serverMetrics()): number {
  return Number(/^process_cpu_seconds_total ([0-9.e+]+)$/m.exec(text)?.[1] ?? NaN);
}

const cpuSeconds = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

/** Mutating requests the API server served, by resource, from its own /metrics. */
function serverWrites(text = serverMetrics()): Map<string, number> {
  const writes = new Map<string, number>();
  for (const line of text.split('\n')) {
    // A dry run changes nothing (the database Secret's existence check is one).
    if (!line.startsWith('apiserver_request_total{') || line.includes('dry_run="All"')) continue;
    const verb = /verb="([A-Z]+)"/.exec(line)?.[1];
    const resource = /resource="([^"]*)"/.exec(line)?.[1] ?? '';
    const code = /code="(\d+)"/.exec(line)?.[1] ?? '';
    if (!verb || !['POST', 'PUT', 'PATCH', 'DELETE', 'APPLY'].includes(verb) || !code.startsWith('2')) continue;
    writes.set(resource, (writes.get(resource) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return writes;
}

const delta = (after: Map<string, number>, before: Map<string, number>) =>
  [...after].map(([r, n]) => [r, n - (before.get(r) ?? 0)] as const).filter(([, n]) => n > 0);

/** What the operator applied for one Startup, made ready to apply again elsewhere: our fields only. */
async function childrenOf(c: KubeClient, name: string): Promise<KubeObject[]> {
  const namespace = `startup-${name}`;
  const ns = await c.get<KubeObject>({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
  const lists = await Promise.all(KINDS.map(([apiVersion, kind]) => c.list<KubeObject & Record<string, unknown>>(apiVersion, kind, { namespace, labelSelector: MANAGED_SELECTOR })));
  return [ns, ...lists.flatMap((l) => l.items)];
}

function retarget(obj: KubeObject & Record<string, any>, namespace: string): KubeObject {
  const { name, labels, annotations } = obj.metadata;
  const out: Record<string, any> = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.kind === 'Namespace' ? namespace : name, ...(obj.kind === 'Namespace' ? {} : { namespace }), labels, ...(annotations ? { annotations } : {}) } };
  for (const key of ['spec', 'data', 'binaryData', 'type', 'stringData']) if (obj[key] !== undefined) out[key] = structuredClone(obj[key]);
  if (obj.kind === 'Service') { delete out.spec.clusterIP; delete out.spec.clusterIPs; }
  return out as KubeObject;
}

const results: Record<string, number | string> = { startups: N, workers: WORKERS };
const tightNamespaces: string[] = [];
try {
  // --- the operator ---
  const before = operator.manager.client.requestCounts();
  const metricsAtStart = serverMetrics();
  const serverAtStart = serverWrites(metricsAtStart);
  const serverCpuAtStart = serverCpuSeconds(metricsAtStart);
  const cpuAtStart = cpuSeconds();
  const started = performance.now();
  await pool(names, 16, async (name) => {
    await client.create({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', metadata: { name, labels: { [RUN_LABEL]: run } }, spec: { displayName: name, template, suspend: true } });
  });
  await until(() => names.every((n) => provisionedAt.has(n)), 20 * 60_000, `${N} Startups to be provisioned`);
  const operatorMs = Math.max(...names.map((n) => provisionedAt.get(n)!)) - started;
  const after = operator.manager.client.requestCounts();
  const metricsConverged = serverMetrics();
  results.operatorCpuSeconds = Number((cpuSeconds() - cpuAtStart).toFixed(1));
  results.operatorServerCpuSeconds = Number((serverCpuSeconds(metricsConverged) - serverCpuAtStart).toFixed(1));
  // The operator's memory once converged, before the tight client's copies exist (gc when run with --expose-gc, as the npm scripts do).
  // Idle render workers are let go after 30 s (src/templates/isolate.ts): measure what stays.
  await new Promise((r) => setTimeout(r, 31_000));
  (globalThis as { gc?: () => void }).gc?.();
  const converged = process.memoryUsage();
  if (process.env.BENCH_MEMORY) console.log(JSON.stringify(converged));
  results.convergedRssMiB = Math.round(converged.rss / 1048576);
  results.convergedHeapMiB = Math.round(converged.heapUsed / 1048576);
  results.operatorSeconds = operatorMs / 1000;
  results.requestsPerStartup = (after.total - before.total) / N;
  results.mutatingPerStartup = (after.mutating - before.mutating) / N;
  // Where the writes went, per Startup, from the API server (other clients' writes to these resources included).
  const writesBy = delta(serverWrites(metricsConverged), serverAtStart).sort((a, b) => b[1] - a[1]);
  results.writesPerStartupByResource = writesBy.map(([r, n]) => `${r} ${(n / N).toFixed(1)}`).join(', ');

  // --- the tight client, the same objects, the same concurrency ---
  const objects = new Map<string, KubeObject[]>();
  await pool(names, 8, async (name) => { objects.set(name, await childrenOf(client, name)); });
  results.objectsPerStartup = [...objects.values()].reduce((n, o) => n + o.length, 0) / N;
  const tightServerCpu = serverCpuSeconds();
  const tightCpu = cpuSeconds();
  const tightStarted = performance.now();
  await pool(names, WORKERS, async (name) => {
    const namespace = `tight-${name}`;
    tightNamespaces.push(namespace);
    for (const obj of objects.get(name)!) await client.serverSideApply(retarget(obj as KubeObject & Record<string, any>, namespace), { force: true, fieldManager: 'bench-tight' });
  });
  results.tightSeconds = (performance.now() - tightStarted) / 1000;
  // The operator's informers see the tight client's objects too (not its own, but watched): their CPU is in this figure.
  results.tightCpuSeconds = Number((cpuSeconds() - tightCpu).toFixed(1));
  results.tightServerCpuSeconds = Number((serverCpuSeconds() - tightServerCpu).toFixed(1));
  results.ratio = Number((operatorMs / (performance.now() - tightStarted)).toFixed(2));

  // --- at rest: a resync of everything ---
  await new Promise((r) => setTimeout(r, 2_000));
  const restBefore = operator.manager.client.requestCounts();
  const serverBefore = serverWrites();
  const reconcilesBefore = reconciles.length;
  operator.startups.startups.resync();
  await until(() => reconciles.length - reconcilesBefore >= N, 120_000, 'the resync to reconcile every Startup');
  await new Promise((r) => setTimeout(r, 2_000));
  const restAfter = operator.manager.client.requestCounts();
  const serverAfter = serverWrites();
  results.resyncOperatorWrites = restAfter.mutating - restBefore.mutating;
  const ours = new Set(['startups', 'namespaces', 'resourcequotas', 'limitranges', 'networkpolicies', 'services', 'serviceaccounts', 'configmaps', 'secrets', 'events']);
  const serverDelta = delta(serverAfter, serverBefore).filter(([r]) => ours.has(r));
  results.resyncServerWrites = serverDelta.reduce((n, [, v]) => n + v, 0);

  // Converging (creates, renders, status writes) and at rest (the resync) are different work: both are printed.
  const percentiles = (xs: number[], prefix: string) => {
    const sorted = [...xs].sort((a, b) => a - b);
    for (const p of [50, 95, 99]) results[`${prefix}P${p}Ms`] = Number(pct(sorted, p).toFixed(2));
    results[`${prefix}Count`] = sorted.length;
  };
  percentiles(reconciles.slice(0, reconcilesBefore), 'reconcile');
  percentiles(reconciles.slice(reconcilesBefore), 'restReconcile');
  const mem = process.memoryUsage();
  results.rssMiB = Math.round(mem.rss / 1048576);
  results.heapUsedMiB = Math.round(mem.heapUsed / 1048576);

  // --- delete them all ---
  const deleteStarted = performance.now();
  await pool(names, 16, async (name) => { await client.delete({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', name }); });
  const prefix = `startup-${run}-`;
  while ((await client.list('v1', 'Namespace')).items.some((n) => n.metadata.name?.startsWith(prefix))) {
    if (performance.now() - deleteStarted > 20 * 60_000) throw new Error('namespaces still terminating after 20 minutes');
    await new Promise((r) => setTimeout(r, 500));
  }
  results.deleteAllSeconds = (performance.now() - deleteStarted) / 1000;

  const rows: [string, string][] = [
    [`${N} Startups through the operator (--api-qps ${args['api-qps']})`, fmt(operatorMs)],
    [`the same ${results.objectsPerStartup} objects each, tight client`, fmt(Number(results.tightSeconds) * 1000)],
    ['ratio (goal ≤ 1.25)', String(results.ratio)],
    ['CPU seconds, this process / API server: operator, tight client', `${results.operatorCpuSeconds} / ${results.operatorServerCpuSeconds}, ${results.tightCpuSeconds} / ${results.tightServerCpuSeconds}`],
    ['API requests per Startup (mutating)', `${Number(results.requestsPerStartup).toFixed(1)} (${Number(results.mutatingPerStartup).toFixed(1)})`],
    ['  writes per Startup by resource (API server)', String(results.writesPerStartupByResource)],
    ['writes of a resync at rest: operator / API server (goal 0)', `${results.resyncOperatorWrites} / ${results.resyncServerWrites}${serverDelta.length ? ` (${serverDelta.map(([r, n]) => `${r} ${n}`).join(', ')})` : ''}`],
    ['reconcile p50 / p95 / p99 while converging', `${fmtMs(Number(results.reconcileP50Ms))} / ${fmtMs(Number(results.reconcileP95Ms))} / ${fmtMs(Number(results.reconcileP99Ms))} over ${results.reconcileCount}`],
    ['reconcile p50 / p95 / p99 at rest (goal p99 ≤ 20 ms)', `${fmtMs(Number(results.restReconcileP50Ms))} / ${fmtMs(Number(results.restReconcileP95Ms))} / ${fmtMs(Number(results.restReconcileP99Ms))} over ${results.restReconcileCount}`],
    ['RSS / heap once converged (goal RSS ≤ 150 MiB at 1000)', `${results.convergedRssMiB} MiB / ${results.convergedHeapMiB} MiB`],
    ['RSS / heap at the end (tight client\'s copies included)', `${results.rssMiB} MiB / ${results.heapUsedMiB} MiB`],
    ['delete them all (namespaces gone)', fmt(Number(results.deleteAllSeconds) * 1000)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
  console.log(JSON.stringify({ bench: 'provision', ...results }));
} finally {
  stop.abort();
  await running;
  await watcher.stop();
  await Promise.all(tightNamespaces.map((name) => client.delete({ apiVersion: 'v1', kind: 'Namespace', name })));
  await cleanupRun(client, run, config.namespace, template);
}
