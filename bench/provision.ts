/**
 * Time from `kubectl apply` of a Startup to provisioned (objects applied, scaffold rendered), for one Startup and for fifty applied
 * at once, with the operator running in this process against the cluster in KUBECONFIG
 * (else the local control plane, brought up if needed). Admission is opened wide so the
 * fifty measure provisioning, not the queue; with the default of 5 they would be admitted
 * five at a time.
 */
import type { Startup } from '../src/api/index.ts';
import { getCondition } from '../src/api/conditions.ts';
import { buildOperator } from '../src/operator/operator.ts';
import { Informer } from '../src/runtime/informer.ts';
import type { KubeObject } from '../src/kube/client.ts';
import { createLogger } from '../src/observability/logger.ts';
import { Metrics } from '../src/observability/metrics.ts';
import { parseOperatorConfig } from '../src/operator/config.ts';
import { RUN_LABEL, benchCluster, cleanupRun, fmtS as fmt, pct } from './_setup.ts';

const run = `b${Date.now().toString(36)}`;

// BENCH_LOG_LEVEL=debug shows the operator's own log (JSON on stdout).
const logger = createLogger({ level: (process.env.BENCH_LOG_LEVEL as 'debug' | undefined) ?? 'silent' });
const { kc, client, template } = await benchCluster(run);

const config = parseOperatorConfig([
  '--namespace', `sf-bench-${run}`, '--metrics-port', '0', '--dashboard-port', '0', '--bind-address', '127.0.0.1', '--log-level', 'silent',
  '--startup-selector', `${RUN_LABEL}=${run}`, '--max-active-startups', '100', '--capacity-cpu', '1000', '--capacity-memory', '1Ti',
  '--node-port-range', '30100-30299', '--workers', '4',
], {});
const operator = buildOperator(config, { kubeConfig: kc, logger, metrics: new Metrics({ defaultMetrics: false }), shutdownDeadlineMs: 5_000 });
const stop = new AbortController();
const running = operator.manager.runUntil(stop.signal);

// Watch readiness through an informer of our own, so the measurement reacts to the watch
// event rather than to a polling interval.
const readyAt = new Map<string, number>();
const watcher = new Informer<Startup>({ client, logger, apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', labelSelector: `${RUN_LABEL}=${run}` });
const waiters: (() => void)[] = [];
// Provisioned: namespace, quota, policy and services applied, scaffold rendered (Ready would also wait for the pipeline).
const provisioned = (s: Startup) => getCondition(s.status?.conditions, 'Provisioned')?.status === 'True' && getCondition(s.status?.conditions, 'TemplateRendered')?.status === 'True';
const note = (s: Startup) => {
  if (readyAt.has(s.metadata.name) || !provisioned(s)) return;
  readyAt.set(s.metadata.name, performance.now());
  waiters.splice(0).forEach((w) => w());
};
watcher.addHandlers({ add: note, update: note });
watcher.start();
await watcher.waitForSync();
await new Promise<void>((resolve) => {
  const check = () => (operator.startups.startups.hasSynced() ? resolve() : setTimeout(check, 50));
  check();
});

function manifest(name: string, expose: 'ClusterIP' | 'NodePort'): KubeObject {
  return {
    apiVersion: 'startupfactory.dev/v1alpha1',
    kind: 'Startup',
    metadata: { name, labels: { [RUN_LABEL]: run } },
    spec: { displayName: name, template, expose },
  };
}

async function measure(count: number): Promise<number[]> {
  const names = Array.from({ length: count }, (_, i) => `${run}-${count}-${i}`);
  const appliedAt = new Map<string, number>();
  await Promise.all(names.map(async (name, i) => {
    appliedAt.set(name, performance.now());
    await client.create(manifest(name, i % 2 === 0 ? 'NodePort' : 'ClusterIP'));
  }));
  const deadline = performance.now() + 600_000;
  while (!names.every((n) => readyAt.has(n))) {
    if (performance.now() > deadline) {
      const late = names.filter((n) => !readyAt.has(n)).map((n) => {
        const ready = getCondition(watcher.get(n)?.status?.conditions, 'Provisioned');
        return `${n} (${ready?.reason ?? 'no status'}: ${ready?.message ?? ''})`;
      });
      throw new Error(`only ${count - late.length} of ${count} provisioned after 10 minutes; waiting: ${late.join(', ')}`);
    }
    await new Promise<void>((resolve) => { waiters.push(resolve); setTimeout(resolve, 1000); });
  }
  return names.map((n) => readyAt.get(n)! - appliedAt.get(n)!).sort((a, b) => a - b);
}


try {
  const one = await measure(1);
  console.log(`1 Startup: apply -> provisioned ${fmt(one[0]!)}`);
  const started = performance.now();
  const fifty = await measure(50);
  console.log(`50 Startups at once: all provisioned after ${fmt(performance.now() - started)}; per Startup p50 ${fmt(pct(fifty, 50))}, p95 ${fmt(pct(fifty, 95))}, max ${fmt(fifty.at(-1)!)}`);
  const startups = (await client.list<Startup>('startupfactory.dev/v1alpha1', 'Startup', { labelSelector: `${RUN_LABEL}=${run}` })).items;
  const ports = startups.flatMap((s) => s.status?.allocation?.nodePorts ?? []);
  console.log(`node ports: ${ports.length} allocated to ${startups.filter((s) => s.spec.expose === 'NodePort').length} NodePort Startups, ${new Set(ports).size === ports.length ? 'all unique' : 'DUPLICATES'}`);
  const counts = operator.manager.client.requestCounts();
  console.log(`operator API requests: ${counts.total} (${counts.mutating} mutating) for 51 Startups`);
} finally {
  stop.abort();
  await running;
  await watcher.stop();
  await cleanupRun(client, run, config.namespace, template);
  // Garbage collection takes the namespaces (and the node ports their Services hold): wait,
  // so a following run starts from a clean cluster.
  const cleanupStarted = performance.now();
  const prefix = `startup-${run}-`;
  while ((await client.list('v1', 'Namespace')).items.some((n) => n.metadata.name?.startsWith(prefix))) {
    if (performance.now() - cleanupStarted > 300_000) throw new Error('namespaces still terminating after 5 minutes');
    await new Promise((r) => setTimeout(r, 1000));
  }
  console.log(`cleanup: every startup namespace gone ${fmt(performance.now() - cleanupStarted)} after deleting the Startups`);
}
