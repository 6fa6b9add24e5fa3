import { randomBytes } from 'node:crypto';
import { setupAnalytics, type AnalyticsView } from '../analytics/store.ts';
import { API_GROUP_VERSION, type AIProvider } from '../api/index.ts';
import { setupProviderController } from '../controller/provider-controller.ts';
import { setupStartupController, startupInformers, type StartupControllerHandle } from '../controller/startup-controller.ts';
import { setupTemplateController } from '../controller/template-controller.ts';
import { TokenAuthorizer, openAccess } from '../dashboard/auth.ts';
import { StartupDetails } from '../dashboard/details.ts';
import { DashboardFeed } from '../dashboard/feed.ts';
import { DashboardServer } from '../dashboard/server.ts';
import { budgetView } from '../gateway/budget.ts';
import { ProviderKeys } from '../gateway/keys.ts';
import { LEDGER_LABEL, LedgerStore, type LedgerConfigMap } from '../gateway/ledger-store.ts';
import { GatewayMetrics } from '../gateway/metrics.ts';
import { Gateway } from '../gateway/server.ts';
import { setupUsageStatusController } from '../gateway/usage-status.ts';
import { KubeClient, type KubeObject } from '../kube/client.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import { setupPipelineController, type PipelineReconciler } from '../pipeline/controller.ts';
import { PipelineMetrics } from '../pipeline/metrics.ts';
import { OUTPUT_LABEL, TASK_LABEL } from '../pipeline/names.ts';
import { TokenKeyring, loadTokenKey } from '../pipeline/token.ts';
import { Router } from '../providers/router.ts';
import { ProviderStatsRecorder } from '../providers/stats-store.ts';
import { MANAGED_SELECTOR } from '../provisioning/metadata.ts';
import { Manager, type ManagerOptions } from '../runtime/manager.ts';
import type { OperatorConfig } from './config.ts';
import { leaderPodLabel } from './leader-label.ts';

export type Operator = {
  manager: Manager;
  startups: StartupControllerHandle;
  gateway: Gateway;
  pipeline: PipelineReconciler;
  ledger: LedgerStore;
  /** Figures per industry, category, template and provider over time, from the analytics ConfigMap (any replica answers). */
  analytics: AnalyticsView;
  /** Mints and checks task tokens. */
  keyring: TokenKeyring;
  /** Served on every replica, unless --dashboard-auth=off. */
  dashboard: DashboardServer | undefined;
  /** Runs until SIGTERM (exit code 0) or a lost Lease (1). */
  run(): Promise<number>;
};

/**
 * The whole operator, composed: the one place that knows every part. The command runs
 * it, and the integration tests and benchmarks run this same composition in-process.
 * Informers are shared (one watch per kind), and the parts that depend on each other
 * do so through what is passed here, never through imports of each other.
 */
export function buildOperator(config: OperatorConfig, options: Omit<ManagerOptions, 'config'> & { clock?: Clock } = {}): Operator {
  const clock = options.clock ?? systemClock;
  const manager = new Manager({ ...options, config, clock });
  const { client } = manager;
  const shared = startupInformers(manager, config.startupSelector);
  const providers = manager.informer<AIProvider>({
    apiVersion: API_GROUP_VERSION, kind: 'AIProvider', ...(config.startupSelector ? { labelSelector: config.startupSelector } : {}),
  });
  const jobs = manager.informer<KubeObject>({ apiVersion: 'batch/v1', kind: 'Job', labelSelector: `${MANAGED_SELECTOR},${TASK_LABEL}`, resyncMs: 0 });
  // Outputs can be large and the scheduler needs only their annotations: metadata only.
  const outputs = manager.informer<KubeObject>({ apiVersion: 'v1', kind: 'ConfigMap', labelSelector: `${MANAGED_SELECTOR},${OUTPUT_LABEL}=true`, metadataOnly: true, resyncMs: 0 });
  const ledgers = manager.informer<LedgerConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', namespace: config.namespace, labelSelector: `${LEDGER_LABEL}=true`, resyncMs: 0 });

  const startups = setupStartupController(manager, shared, config, clock);
  setupTemplateController(manager, shared.templates, clock);
  setupProviderController(manager, providers, config.namespace, clock);

  // The gateway's calls to the API server (ledger writes, key reads) are on every model
  // call's path: a limiter of their own, so they never wait behind reconciles. The
  // connections are shared, so a pool a watch found dead is renewed for the gateway too.
  const gatewayClient = new KubeClient(client.kubeConfig, { qps: config.apiQps, burst: config.apiBurst, metrics: manager.metrics, clock, connections: client.connections });
  // This process, not the pod: a container restarted in the same pod keeps its identity (the
  // Lease's holder) but not its calls in flight, which it must charge as its predecessor's.
  const holder = `${manager.identity}/${randomBytes(4).toString('hex')}`;
  const changed: ((startup: string) => void)[] = [];
  const ledger = new LedgerStore({
    client: gatewayClient, namespace: config.namespace, holder, clock, logger: manager.logger,
    onChange: (startup) => changed.forEach((f) => f(startup)),
    cached: (name) => ledgers.get(name, config.namespace),
  });
  const keyring = new TokenKeyring(() => loadTokenKey(gatewayClient, config.namespace, manager.owner));
  // The learning engine: the gateway records what each provider did, the router reads it back.
  const stats = new ProviderStatsRecorder({ client: gatewayClient, cached: (name) => providers.get(name), clock, logger: manager.logger.child({ component: 'provider-stats' }) });
  const router = new Router({ stats: (provider, type) => stats.stats(provider, type), clock, registry: manager.metrics.registry });
  const caches = { ...shared, providers, jobs, outputs };
  const gateway = new Gateway({
    client: gatewayClient, caches, keyring, ledger, keys: new ProviderKeys(gatewayClient, config.namespace, clock),
    metrics: new GatewayMetrics(manager.metrics.registry), logger: manager.logger.child({ component: 'gateway' }), clock,
    holder, host: config.bindAddress, port: config.gatewayPort, url: config.gatewayUrl,
    cache: { maxAgeMs: config.cacheMaxAgeSeconds * 1000, maxBytes: config.cacheMaxBytes },
    quality: { min: config.minQuality, retries: config.qualityRetries }, router, stats,
  });
  const pipeline = setupPipelineController(manager, {
    caches, budget: budgetView(ledger, clock), tokens: keyring, metrics: new PipelineMetrics(manager.metrics.registry), router, clock,
    config: {
      taskImage: config.taskImage, gatewayUrl: () => gateway.url(), maxTasksPerStartup: config.maxTasksPerStartup,
      maxRunningTasks: config.maxRunningTasks, taskDeadlineSeconds: config.taskDeadlineSeconds,
      retry: { maxAttempts: config.taskMaxAttempts, backoff: { baseMs: 10_000, maxMs: 300_000 } },
    },
  });
  const usage = setupUsageStatusController(manager, { startups: shared.startups, ledger, clock });
  changed.push(pipeline.usageChanged, usage.changed);
  const analytics = setupAnalytics(manager, { startups: shared.startups, clock });

  let dashboard: DashboardServer | undefined;
  if (config.dashboardAuth !== 'off') {
    // Viewers' reads and token reviews get a limiter of their own: a busy page never delays a reconcile.
    const dashboardClient = new KubeClient(client.kubeConfig, { qps: 20, burst: 40, metrics: manager.metrics, clock, connections: client.connections });
    dashboard = new DashboardServer({
      host: config.dashboardAddress ?? config.bindAddress, port: config.dashboardPort, authMode: config.dashboardAuth,
      feed: new DashboardFeed({ startups: shared.startups, templates: shared.templates, providers, clock }),
      details: new StartupDetails({ client: dashboardClient, clock }),
      startup: (name) => shared.startups.get(name),
      analytics,
      authorizer: config.dashboardAuth === 'none' ? openAccess : new TokenAuthorizer({ client: dashboardClient, clock }),
      logger: manager.logger.child({ component: 'dashboard' }), clock,
    });
    manager.replicaRunnable(dashboard);
  }

  manager.leaderRunnable(gateway);
  manager.leaderRunnable(stats);
  const label = config.labelLeaderPod ? leaderPodLabel(client, config.namespace, manager.identity, manager.logger) : undefined;
  if (label) manager.leaderRunnable(label);
  return { manager, startups, gateway, pipeline: pipeline.reconciler, ledger, analytics, keyring, dashboard, run: async () => { await label?.clear(); return manager.run(); } };
}
