import { API_GROUP_VERSION, type Startup, type StartupTemplate } from '../api/index.ts';
import type { NodeLike } from '../admission/capacity.ts';
import { AllocationLedger } from '../admission/ledger.ts';
import type { KubeClient, KubeObject } from '../kube/client.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { OperatorConfig } from '../operator/config.ts';
import { MANAGED_SELECTOR } from '../provisioning/metadata.ts';
import type { EventRecorder } from './events.ts';
import { systemClock, type Clock } from './runtime/clock.ts';
import { Controller } from './runtime/controller.ts';
import { Informer, enqueueOwner, objectKey } from './runtime/informer.ts';
import { StartupReconciler } from './startup-reconciler.ts';

/** Kinds a provisioned Startup consists of (all but its Secret, which is never cached). */
const OWNED_KINDS = [
  ['v1', 'Namespace'],
  ['v1', 'ResourceQuota'],
  ['v1', 'LimitRange'],
  ['networking.k8s.io/v1', 'NetworkPolicy'],
  ['v1', 'ServiceAccount'],
  ['v1', 'Service'],
] as const;

export type StartupControllerOptions = {
  client: KubeClient;
  logger: Logger;
  metrics: Metrics;
  recorder: EventRecorder;
  config: Pick<OperatorConfig, 'namespace' | 'gatewayPort' | 'maxActiveStartups' | 'capacityCpu' | 'capacityMemory' | 'nodePortRange' | 'workers' | 'resyncSeconds' | 'startupSelector'>;
  clock?: Clock;
};

/**
 * The Startup controller with the informers it reads: Startups, StartupTemplates (default
 * services), Nodes (capacity) and the owned kinds, label-selected so only our objects are
 * cached. A change to any owned object enqueues its Startup, which is how a hand edit is
 * reverted; any change among Startups or Nodes re-examines the waiting ones, since a
 * freed slot, capacity or node port may be theirs now.
 */
export class StartupController {
  readonly controller: Controller;
  readonly startups: Informer<Startup>;
  readonly informers: Informer<KubeObject>[];

  constructor(o: StartupControllerOptions) {
    const clock = o.clock ?? systemClock;
    const informer = <T extends KubeObject>(apiVersion: string, kind: string, extra: { labelSelector?: string; resyncMs?: number } = {}) =>
      new Informer<T>({ client: o.client, logger: o.logger, apiVersion, kind, clock, ...extra });

    this.startups = informer<Startup>(API_GROUP_VERSION, 'Startup', {
      resyncMs: o.config.resyncSeconds * 1000,
      ...(o.config.startupSelector ? { labelSelector: o.config.startupSelector } : {}),
    });
    const templates = informer<StartupTemplate>(API_GROUP_VERSION, 'StartupTemplate');
    const nodes = informer<KubeObject & NodeLike>('v1', 'Node');
    const owned = new Map(OWNED_KINDS.map(([apiVersion, kind]) => [kind, informer(apiVersion, kind, { labelSelector: MANAGED_SELECTOR })] as const));

    const reconciler = new StartupReconciler({
      client: o.client,
      startups: this.startups,
      templates,
      nodes,
      owned,
      ledger: new AllocationLedger(),
      config: o.config,
      events: (startup, type, reason, note) => o.recorder.record(startup, { type, reason, action: 'Provision', note }),
      metrics: o.metrics,
      clock,
    });
    this.controller = new Controller({
      name: 'startup',
      reconcile: (key, ctx) => reconciler.reconcile(key, ctx),
      logger: o.logger,
      metrics: o.metrics,
      workers: o.config.workers,
      clock,
    });

    const enqueue = (key: string) => this.controller.enqueue(key);
    const enqueueWaiting = () => {
      for (const s of this.startups.list()) if (s.status?.phase !== 'Running' && s.status?.phase !== 'Suspended') enqueue(s.metadata.name);
    };
    this.startups.addHandlers({
      add: (s) => { enqueue(objectKey(s)); enqueueWaiting(); },
      update: (s, old) => { enqueue(objectKey(s)); if (s !== old) enqueueWaiting(); },
      delete: () => enqueueWaiting(),
    });
    templates.addHandlers({
      add: (t) => this.#enqueueUsers(t.metadata.name),
      update: (t, old) => { if (t !== old) this.#enqueueUsers(t.metadata.name); },
      delete: (t) => this.#enqueueUsers(t.metadata.name),
    });
    nodes.addHandlers({ add: enqueueWaiting, delete: enqueueWaiting });
    for (const i of owned.values()) i.addHandlers(enqueueOwner(enqueue));
    this.informers = [this.startups, templates, nodes, ...owned.values()] as Informer<KubeObject>[];
  }

  /** Starts the informers, waits for their caches, then the workers: no decision is made from a half-filled cache. */
  async start(): Promise<void> {
    for (const i of this.informers) i.start();
    await Promise.all(this.informers.map((i) => i.waitForSync()));
    this.controller.start();
  }

  async stop(deadlineMs: number): Promise<void> {
    await this.controller.stop(deadlineMs);
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  #enqueueUsers(template: string): void {
    for (const s of this.startups.list()) if (s.spec?.template === template) this.controller.enqueue(s.metadata.name);
  }
}
