/** What every benchmark needs: a cluster (KUBECONFIG, else the local control plane), the CRDs, a template of its own. */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { KubeClient, type KubeObject } from '../src/kube/client.ts';
import { loadKubeConfig } from '../src/kube/config.ts';
import { createLogger } from '../src/observability/logger.ts';
import { Metrics } from '../src/observability/metrics.ts';
import { parseOperatorConfig } from '../src/operator/config.ts';
import { buildOperator, type Operator } from '../src/operator/operator.ts';
import { loadTemplateDir, templateDir, toStartupTemplate } from '../src/templates/load.ts';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function kubeconfigPath(): string | undefined {
  if (process.env.KUBECONFIG) return undefined;
  const local = join(root, '.cluster', 'kubeconfig');
  if (!existsSync(local)) execFileSync('npm', ['run', '--silent', 'cluster:up'], { cwd: root, stdio: 'inherit' });
  return local;
}

export async function benchCluster(run: string): Promise<{ kc: ReturnType<typeof loadKubeConfig>; client: KubeClient; template: string }> {
  const kc = loadKubeConfig(kubeconfigPath());
  const client = new KubeClient(kc, { qps: 200, burst: 400 });
  for (const file of readdirSync(join(root, 'crds')).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(root, 'crds', file), 'utf8'))) {
      await client.serverSideApply(doc.toJSON() as KubeObject, { force: true });
    }
  }
  // The built-in reactnext template under a name of this run's, so every Startup renders a real scaffold and runs its pipeline.
  const template = `${run}-reactnext`;
  const builtin = toStartupTemplate(await loadTemplateDir(templateDir('reactnext')));
  await client.serverSideApply({ ...builtin, metadata: { name: template } });
  return { kc, client, template };
}

export const pct = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
export const fmtS = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
export const fmtMs = (ms: number) => `${ms.toFixed(1)} ms`;

export const RUN_LABEL = 'bench.startupfactory.dev/run';

/** A free port on loopback, for a gateway that keeps its address across the operators of one run. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
}

/**
 * Runs `body` with a whole operator in this process, managing only this run's objects;
 * operators of one run share its namespace, gateway port and ledgers, as one that
 * restarts would.
 */
export async function withOperator<T>(
  bench: { kc: ReturnType<typeof loadKubeConfig>; run: string; namespace: string; gatewayPort: number },
  flags: string[], body: (operator: Operator) => Promise<T>,
): Promise<T> {
  const config = parseOperatorConfig([
    '--namespace', bench.namespace, '--metrics-port', '0', '--dashboard-port', '0', '--bind-address', '127.0.0.1', '--log-level', 'silent', '--gateway-port', String(bench.gatewayPort),
    '--startup-selector', `${RUN_LABEL}=${bench.run}`, '--max-active-startups', '20', '--capacity-cpu', '1000', '--capacity-memory', '1Ti', '--leader-elect=false',
    ...flags,
  ], {});
  const logger = createLogger({ level: (process.env.BENCH_LOG_LEVEL as 'debug' | undefined) ?? 'silent' });
  const operator = buildOperator(config, { kubeConfig: bench.kc, logger, metrics: new Metrics({ defaultMetrics: false }), shutdownDeadlineMs: 5_000 });
  const stop = new AbortController();
  const running = operator.manager.runUntil(stop.signal);
  try {
    return await body(operator);
  } finally {
    stop.abort();
    await running;
  }
}

export async function applyAll(client: KubeClient, docs: object[]): Promise<void> {
  for (const d of docs) await client.serverSideApply(d as KubeObject, { force: true, fieldManager: 'bench' });
}

export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Deletes what a run made: its Startups, AIProviders, the operator's namespace and the template. */
export async function cleanupRun(client: KubeClient, run: string, namespace: string, template: string): Promise<void> {
  for (const kind of ['Startup', 'AIProvider']) {
    const { items } = await client.list('startupfactory.dev/v1alpha1', kind, { labelSelector: `${RUN_LABEL}=${run}` });
    await Promise.all(items.map((o) => client.delete({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name! })));
  }
  await client.delete({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
  await client.delete({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'StartupTemplate', name: template });
}
