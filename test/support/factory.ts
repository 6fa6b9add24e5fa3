import { stringify } from 'yaml';
import { createServer } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Writable } from 'node:stream';
import { kubeConfig, kubectl, uniqueName, waitFor } from './cluster.ts';
import { buildOperator, type Operator as FullOperator } from '../../src/operator/operator.ts';
import { setupStartupController, startupInformers } from '../../src/controller/startup-controller.ts';
import type { Clock } from '../../src/lib/clock.ts';
import { Manager, type ManagerOptions } from '../../src/runtime/manager.ts';
import type { Startup, StartupSpecInput } from '../../src/api/index.ts';
import { getCondition } from '../../src/api/conditions.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { parseOperatorConfig } from '../../src/operator/config.ts';
import { loadTemplateDir, templateDir, toStartupTemplate } from '../../src/templates/load.ts';

export const RUN_LABEL = 'test.startupfactory.dev/run';

/** The operator a test runs: all of it, or its Startup controller alone (`startupControllerOnly`). */
export type Operator = Pick<FullOperator, 'manager' | 'startups'> & Partial<Omit<FullOperator, 'manager' | 'startups'>>;

/** A free port, so each file's gateway has one that stays the same across the operator's restarts (task Jobs keep its URL). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * One factory per test file: its own operator namespace and Lease, and a label selector so
 * it manages only the Startups this file creates (other files, run in parallel, have theirs).
 */
export type TestFactory = {
  run: string;
  /** The operator's namespace: provider key Secrets, ledgers, the gateway's key. */
  namespace: string;
  /** The operator's flags, for a test that runs it as a process of its own (`external`). */
  flags: string[];
  gatewayPort: number;
  /** A StartupTemplate of this file's own (the built-in reactnext under a unique name), the default of `manifest`. */
  template: string;
  operator: Operator;
  /** Stops the operator (as SIGTERM would); `start` brings up a fresh one with the same flags, then `more` (which win). */
  stop(): Promise<void>;
  start(more?: string[]): Promise<void>;
  /** The test's own client: its requests never count against the operator's. */
  client: KubeClient;
  manifest(name: string, spec: Partial<StartupSpecInput>): string;
  get(name: string): Promise<Startup>;
  cleanup(): Promise<void>;
};

/**
 * `startupControllerOnly`: without the StartupTemplate controller, which judges every
 * template in the cluster (other files' too), for a file that counts the operator's writes.
 */
export type FactoryOptions = {
  startupControllerOnly?: boolean;
  /** The operator's clock (a test that controls budget windows shifts it). */
  clock?: Clock;
  /** Where the operator's JSON logs go (default: nowhere, or stderr with TEST_LOG_LEVEL=debug). */
  logs?: Writable;
  /** The test runs the operator itself (OperatorProcess); the factory starts none and makes its namespace. */
  external?: boolean;
  /** Names chosen before the factory starts, for a file that builds its test cases around them (unique ones otherwise). */
  names?: Partial<Pick<TestFactory, 'run' | 'namespace' | 'template'>>;
  /** How the operator reaches the API server (default: the suite's kubeconfig), e.g. through a proxy that breaks its connections. */
  kubeConfig?: KubeConfig;
  /** The operator's informers' watchdog, watch timeout and backoff, for a file that makes watches fail. */
  informerDefaults?: ManagerOptions['informerDefaults'];
};

export async function startFactory(flags: string[], o: FactoryOptions = {}): Promise<TestFactory> {
  const run = o.names?.run ?? uniqueName('run');
  const namespace = o.names?.namespace ?? uniqueName('sf-op');
  const gatewayPort = await freePort();
  const operatorFlags = [
    '--namespace', namespace, '--metrics-port', '0', '--dashboard-port', '0', '--bind-address', '127.0.0.1',
    '--startup-selector', `${RUN_LABEL}=${run}`, ...flags,
  ];
  const baseArgs = [...operatorFlags, '--gateway-port', String(gatewayPort), '--log-level', 'silent'];
  const logger = o.logs
    ? createLogger({ level: 'debug', destination: o.logs })
    : createLogger({ level: process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'silent' });
  const client = new KubeClient(kubeConfig(), { qps: 100, burst: 200, metrics: new Metrics({ defaultMetrics: false }) });
  let stopCurrent: (() => Promise<void>) | undefined;
  const template = o.names?.template ?? uniqueName('tpl');
  const builtin = toStartupTemplate(await loadTemplateDir(templateDir('reactnext')));
  await client.serverSideApply({ ...builtin, metadata: { name: template } });

  const factory: TestFactory = {
    run,
    namespace,
    flags: operatorFlags,
    gatewayPort,
    template,
    operator: undefined as unknown as Operator,
    client,
    async start(more = []) {
      if (o.external) return;
      const config = parseOperatorConfig([...baseArgs, ...more], {});
      const options: Omit<ManagerOptions, 'config'> = {
        kubeConfig: o.kubeConfig ?? kubeConfig(),
        ...(o.informerDefaults ? { informerDefaults: o.informerDefaults } : {}),
        logger,
        metrics: new Metrics({ defaultMetrics: false }),
        shutdownDeadlineMs: 5_000,
        lease: { durationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 },
      };
      let operator: Operator;
      if (o.startupControllerOnly) {
        const manager = new Manager({ ...options, config });
        operator = { manager, startups: setupStartupController(manager, startupInformers(manager, config.startupSelector), config) };
      } else {
        operator = buildOperator(config, { ...options, ...(o.clock ? { clock: o.clock } : {}) });
      }
      const abort = new AbortController();
      const running = operator.manager.runUntil(abort.signal);
      factory.operator = operator;
      stopCurrent = async () => { abort.abort(); await running; };
    },
    async stop() {
      await stopCurrent?.();
      stopCurrent = undefined;
    },
    manifest(name, spec) {
      return stringify({
        apiVersion: 'startupfactory.dev/v1alpha1',
        kind: 'Startup',
        metadata: { name, labels: { [RUN_LABEL]: run } },
        spec: { displayName: name, template, ...spec },
      });
    },
    get(name) {
      return client.get<Startup>({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', name });
    },
    async cleanup() {
      await factory.stop();
      await kubectl(['delete', 'startups,aiproviders,startuptemplates', '-l', `${RUN_LABEL}=${run}`, '--ignore-not-found', '--wait=false']);
      await kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']);
      await kubectl(['delete', 'startuptemplate', template, '--ignore-not-found', '--wait=false']);
    },
  };
  await factory.start();
  if (o.external) await kubectl(['create', 'namespace', namespace]);
  // The operator makes its namespace as it starts; provider key Secrets go there.
  await waitFor(`namespace ${namespace}`, async () => (await client.getOptional({ apiVersion: 'v1', kind: 'Namespace', name: namespace })) !== undefined, 30_000);
  return factory;
}

export async function apply(manifests: string[]): Promise<void> {
  const { code, stderr } = await kubectl(['apply', '-f', '-'], { input: manifests.join('---\n') });
  if (code !== 0) throw new Error(`kubectl apply failed: ${stderr}`);
}

export function condition(startup: Startup, type: string) {
  return getCondition(startup.status?.conditions, type);
}

/** Provisioned with its scaffold rendered, for the current generation: all provisioning does (Ready also waits for the pipeline). */
export const isProvisioned = (s: Startup) => condition(s, 'Provisioned')?.status === 'True' && condition(s, 'TemplateRendered')?.status === 'True'
  && s.status?.observedGeneration === s.metadata.generation;

/**
 * Waits until the operator has nothing left over from earlier work, so that counting its
 * writes from now on measures only what comes after: its Startup cache has seen the last
 * write to each of them (so the reconcile that write triggers has been enqueued), no
 * controller has a key queued, the Startup controller none in flight, and every Event
 * recorded so far has been written. A condition, not a pause: a loaded machine only makes
 * it take longer.
 */
export async function settled(factory: TestFactory, timeoutMs = 30_000): Promise<void> {
  const { manager, startups } = factory.operator;
  await waitFor('the operator to settle', async () => {
    for (const cached of startups.startups.list()) {
      const live = await factory.get(cached.metadata.name);
      if (live.metadata.resourceVersion !== startups.startups.get(cached.metadata.name)?.metadata.resourceVersion) return false;
    }
    const depths = (await manager.metrics.workqueueDepth.get()).values;
    if (depths.some((v) => v.value > 0) || startups.controller.queue.inFlight().length > 0) return false;
    await manager.events.flush();
    return true;
  }, timeoutMs, 100);
}
