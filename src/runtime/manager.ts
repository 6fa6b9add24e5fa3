import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { EventRecorder } from './events.ts';
import { sleep, systemClock, type Clock } from '../lib/clock.ts';
import { backoffDelay } from '../lib/rate-limit.ts';
import { Controller, type Reconciler } from './controller.ts';
import { Informer, type InformerOptions } from './informer.ts';
import { LeaderElector } from './leader-election.ts';
import { KubeClient, type KubeObject, type OwnerReference } from '../kube/client.ts';
import { loadKubeConfig } from '../kube/config.ts';
import { HttpServer } from '../observability/http.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { Metrics } from '../observability/metrics.ts';

/** Work the manager starts and stops with itself. */
export interface Runnable {
  name: string;
  start(): void | Promise<void>;
  stop(deadlineMs: number): Promise<void>;
}

/** Runs only on the leader (besides controllers): started on election, stopped before the Lease is released. */
export type LeaderRunnable = Runnable;

/** The settings the runtime itself reads; the operator's configuration carries these and more. */
export type ManagerConfig = {
  kubeconfig?: string | undefined;
  namespace: string;
  identity?: string | undefined;
  leaderElect: boolean;
  leaseName: string;
  /** The Deployment (in `namespace`) that runs this process: what it makes there for itself goes when it goes. */
  ownerDeployment?: string | undefined;
  workers: number;
  resyncSeconds: number;
  shutdownSeconds: number;
  apiQps: number;
  apiBurst: number;
  metricsPort: number;
  bindAddress: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
};

export interface ManagerOptions {
  config: ManagerConfig;
  kubeConfig?: KubeConfig;
  logger?: Logger;
  metrics?: Metrics;
  clock?: Clock;
  /** Overrides --shutdown-seconds (tests and benchmarks stop faster). */
  shutdownDeadlineMs?: number;
  /** Lease timings (15 s / 10 s / 2 s unless a test needs them faster). */
  lease?: { durationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  /**
   * How every informer notices a lost or silent watch (its watchdog, the server-side watch
   * timeout, the backoff between attempts), unless its spec says otherwise: minutes in
   * production, seconds in a test that makes a watch go silent.
   */
  informerDefaults?: Pick<InformerOptions, 'watchdogMs' | 'watchTimeoutSeconds' | 'backoff'>;
}

export type InformerSpec = Omit<InformerOptions, 'client' | 'logger' | 'clock'>;

/**
 * Composes the operator process: informers (on every replica, so a standby is warm), the
 * controllers and other leader-only work (started once this replica leads and its caches
 * have synced), the HTTP server, and an orderly shutdown: leader-only work stops first (the
 * gateway drains its calls in flight while the controllers still reconcile), in-flight
 * reconciles get what is left of a deadline, the Lease is released so a successor starts
 * at once, exit 0. Losing
 * the Lease stops the controllers and ends `run` with exit code 1, so the pod restarts as a
 * fresh candidate instead of reconciling without the Lease.
 */
export class Manager {
  readonly config: ManagerConfig;
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly http: HttpServer;
  readonly events: EventRecorder;
  readonly identity: string;
  private readonly clock: Clock;
  private readonly shutdownDeadlineMs: number;
  private readonly lease: ManagerOptions['lease'];
  private readonly informerDefaults: ManagerOptions['informerDefaults'];
  private readonly informers: Informer<KubeObject>[] = [];
  private readonly controllers: Controller[] = [];
  private readonly runnables: LeaderRunnable[] = [];
  private readonly replicaRunnables: Runnable[] = [];
  private readonly stopSignal = new AbortController();
  private leaderStarted = false;
  private stopping: Promise<void> | undefined;
  #owner: OwnerReference | undefined;

  constructor(o: ManagerOptions) {
    this.config = o.config;
    this.clock = o.clock ?? systemClock;
    this.logger = o.logger ?? createLogger({ level: o.config.logLevel });
    this.metrics = o.metrics ?? new Metrics();
    this.client = new KubeClient(o.kubeConfig ?? loadKubeConfig(o.config.kubeconfig), {
      qps: o.config.apiQps, burst: o.config.apiBurst, metrics: this.metrics, clock: this.clock,
    });
    this.identity = o.config.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
    this.http = new HttpServer({ registry: this.metrics.registry, host: o.config.bindAddress, port: o.config.metricsPort });
    this.events = new EventRecorder({ client: this.client, logger: this.logger, reportingInstance: this.identity, clock: this.clock });
    this.shutdownDeadlineMs = o.shutdownDeadlineMs ?? o.config.shutdownSeconds * 1000;
    this.lease = o.lease;
    this.informerDefaults = o.informerDefaults;
  }

  /**
   * The owner of the objects the operator makes in its namespace for itself (the Lease, the
   * gateway's signing key), known once `run` has started: its Deployment, so that they are
   * garbage-collected with it (`helm uninstall`); undefined without --owner-deployment.
   */
  get owner(): OwnerReference | undefined {
    return this.#owner;
  }

  /** Registers an informer; it starts with the manager and gates /readyz. */
  informer<T extends KubeObject>(spec: InformerSpec): Informer<T> {
    const informer = new Informer<T>({
      resyncMs: this.config.resyncSeconds * 1000, ...this.informerDefaults, ...spec, client: this.client, logger: this.logger, clock: this.clock,
    });
    this.informers.push(informer as unknown as Informer<KubeObject>);
    this.metrics.trackInformerHealth(spec.kind, spec.labelSelector ?? '', () => informer.healthy());
    const label = spec.labelSelector ? `${spec.kind} (${spec.labelSelector})` : spec.kind;
    this.http.addReadinessCheck({
      name: `informer ${label}`,
      check: () => {
        const s = informer.status();
        return { ok: s.healthy, detail: !s.synced ? 'not synced yet' : (s.lastError ?? 'recovering') };
      },
    });
    return informer;
  }

  /** Registers a controller; its workers run only while this replica leads. */
  controller(o: { name: string; reconcile: Reconciler; workers?: number; logKeyAs?: string }): Controller {
    const controller = new Controller({
      name: o.name, reconcile: o.reconcile, workers: o.workers ?? this.config.workers,
      ...(o.logKeyAs ? { logKeyAs: o.logKeyAs } : {}),
      logger: this.logger, metrics: this.metrics, clock: this.clock,
    });
    this.controllers.push(controller);
    return controller;
  }

  /**
   * Registers work every replica runs from start to shutdown (the dashboard, which reads
   * the informers a standby keeps warm too). It starts once the HTTP server listens; a
   * start that throws ends `run`, as a port already taken should.
   */
  replicaRunnable(runnable: Runnable): void {
    this.replicaRunnables.push(runnable);
  }

  /** Registers other leader-only work (a scheduler, a budget window timer...). */
  leaderRunnable(runnable: LeaderRunnable): void {
    this.runnables.push(runnable);
  }

  /**
   * Runs until SIGTERM/SIGINT (exit code 0) or until leadership is lost (1). The caller sets
   * the process exit code from the result.
   */
  async run(): Promise<number> {
    const signals = ['SIGTERM', 'SIGINT'] as const;
    const onSignal = (signal: string) => {
      this.logger.info({ signal }, 'shutting down');
      this.stopSignal.abort();
    };
    for (const s of signals) process.once(s, onSignal);
    try {
      return await this.runUntil(this.stopSignal.signal);
    } finally {
      for (const s of signals) process.off(s, onSignal);
    }
  }

  /** `run` without the signal handlers: ends when `signal` aborts. */
  async runUntil(signal: AbortSignal): Promise<number> {
    const address = await this.http.listen();
    this.logger.info({ address: `${address.address}:${address.port}`, identity: this.identity }, 'operator starting');
    for (const informer of this.informers) informer.start();
    try {
      for (const r of this.replicaRunnables) await r.start();
    } catch (err) {
      await this.shutdownRest();
      throw err;
    }
    const synced = Promise.all(this.informers.map((i) => i.waitForSync()));
    let exitCode = 0;
    // The Lease, the ledgers and the gateway's key live there.
    await this.ensureNamespace(this.config.namespace);
    this.#owner = await this.resolveOwner();
    if (this.config.leaderElect) {
      const elector = new LeaderElector({
        client: this.client, logger: this.logger, clock: this.clock,
        namespace: this.config.namespace, name: this.config.leaseName, identity: this.identity, owner: this.#owner,
        ...(this.lease ? { leaseDurationMs: this.lease.durationMs, renewDeadlineMs: this.lease.renewDeadlineMs, retryPeriodMs: this.lease.retryPeriodMs } : {}),
        // Stopping is not a callback here: controllers must stop before the Lease is released, so runUntil does it.
        onStartedLeading: () => { void synced.then(() => this.startLeading(signal)); },
        onNewLeader: (leader) => { if (leader !== this.identity) this.logger.info({ leader }, 'another replica leads'); },
      });
      const electionStop = new AbortController();
      const election = elector.run(electionStop.signal);
      // Until we abort it, the election only ends by losing the Lease.
      const ended = await Promise.race([
        election.then(() => 'lost' as const),
        new Promise<'signal'>((resolve) => (signal.aborted ? resolve('signal') : signal.addEventListener('abort', () => resolve('signal'), { once: true }))),
      ]);
      await this.stopLeading(election);
      if (ended === 'signal') {
        electionStop.abort();
        await election;
      } else {
        exitCode = 1;
        this.logger.error('leadership lost; stopping so this replica restarts as a candidate');
      }
    } else {
      void synced.then(() => this.startLeading(signal));
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      await this.stopLeading(new Promise(() => {}));
    }
    await this.shutdownRest();
    this.logger.info({ exitCode }, 'operator stopped');
    return exitCode;
  }

  private async startLeading(signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.leaderStarted || this.stopping) return;
    this.leaderStarted = true;
    for (const c of this.controllers) c.start();
    for (const r of this.runnables) await this.startRunnable(r, signal);
    // The informers' initial lists already enqueued every object: a takeover catches up on all of them.
    this.logger.info({ controllers: this.controllers.map((c) => c.name) }, 'leading: controllers running');
  }

  /** Starts leader-only work, retrying with backoff: it may depend on the API server, which may be briefly away. */
  private async startRunnable(r: LeaderRunnable, signal: AbortSignal): Promise<void> {
    for (let attempt = 0; !signal.aborted && !this.stopping; attempt++) {
      try {
        await r.start();
        return;
      } catch (err) {
        const delay = backoffDelay(attempt, { baseMs: 500, maxMs: 30_000, jitter: 0.2 });
        this.logger.error({ err, runnable: r.name, retryInMs: delay }, 'leader-only work could not start; retrying');
        await sleep(this.clock, delay, signal);
      }
    }
  }

  /**
   * Leader-only work first, the controllers after, within one deadline: the gateway drains
   * its calls in flight while the controllers still reconcile, so a graceful handover
   * (a rolling upgrade) stops reconciling only for as long as the controllers take to stop,
   * not for as long as the slowest model call. Once `lost` resolves (the Lease is gone, or
   * goes meanwhile) the controllers stop at once.
   */
  private stopLeading(lost: Promise<unknown>): Promise<void> {
    this.stopping ??= (async () => {
      if (!this.leaderStarted) return;
      const until = this.clock.now() + this.shutdownDeadlineMs;
      const runnables = Promise.all(this.runnables.map((r) => r.stop(this.shutdownDeadlineMs).catch((err: unknown) => this.logger.warn({ err, runnable: r.name }, 'runnable did not stop cleanly'))));
      await Promise.race([runnables, lost]);
      await Promise.all(this.controllers.map((c) => c.stop(Math.max(0, until - this.clock.now()))));
      await runnables;
    })();
    return this.stopping;
  }

  private async shutdownRest(): Promise<void> {
    await Promise.all(this.replicaRunnables.map((r) => r.stop(this.shutdownDeadlineMs).catch((err: unknown) => this.logger.warn({ err, runnable: r.name }, 'runnable did not stop cleanly'))));
    await Promise.all(this.informers.map((i) => i.stop()));
    // Events still queued get a short grace; they must never hold the process up.
    let timer: unknown;
    await Promise.race([this.events.flush(), new Promise((r) => { timer = this.clock.setTimeout(() => r(undefined), 2000); })]);
    this.clock.clearTimeout(timer);
    await this.http.close();
  }

  private async resolveOwner(): Promise<OwnerReference | undefined> {
    const name = this.config.ownerDeployment;
    if (!name) return undefined;
    try {
      const deployment = await this.client.get<KubeObject>({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: this.config.namespace, name });
      return { apiVersion: 'apps/v1', kind: 'Deployment', name, uid: deployment.metadata.uid as string };
    } catch (err) {
      // Only what is left behind on uninstall depends on it: never a reason not to run.
      this.logger.warn({ err, deployment: name }, 'could not read the owner Deployment; the objects made now will outlive it');
      return undefined;
    }
  }

  private async ensureNamespace(name: string): Promise<void> {
    const ref = { apiVersion: 'v1', kind: 'Namespace', name };
    try {
      if (await this.client.getOptional(ref)) return;
      await this.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'startup-factory' } } });
      this.logger.info({ namespace: name }, 'created the operator namespace (Lease, ledgers, gateway key)');
    } catch (err) {
      // Without the rights to check or create it, the elector's own errors will say what is wrong.
      this.logger.warn({ err, namespace: name }, 'could not ensure the operator namespace');
    }
  }
}
