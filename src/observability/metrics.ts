import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type ReconcileResult = 'success' | 'error' | 'requeue' | 'terminal';

/**
 * The operator's Prometheus metrics, on one Registry that `/metrics` serves. Other parts of
 * the operator (gateway, pipeline) register their own metrics on `registry` too. Tests
 * build their own instance so counts never leak between them.
 */
export class Metrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileDuration: Histogram<'controller'>;
  readonly workqueueDepth: Gauge<'controller'>;
  readonly workqueueRetries: Counter<'controller'>;
  readonly apiRequests: Counter<'verb' | 'code'>;
  readonly startups: Gauge<'phase'>;
  readonly informerHealthy: Gauge<'kind' | 'selector'>;
  private readonly depthSources = new Map<string, () => number>();
  private readonly healthSources: { labels: { kind: string; selector: string }; healthy: () => boolean }[] = [];
  private phaseSource: (() => Iterable<{ status?: { phase?: string } }>) | undefined;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.registry = new Registry();
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    const sources = this.depthSources;
    const phases = () => this.phaseSource;
    const health = this.healthSources;
    this.reconcileTotal = new Counter({
      name: 'startup_factory_reconcile_total',
      help: 'Reconciles by controller and result (success, error, requeue, terminal).',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'startup_factory_reconcile_duration_seconds',
      help: 'Time spent in one reconcile.',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.workqueueDepth = new Gauge({
      name: 'startup_factory_workqueue_depth',
      help: 'Keys waiting in a controller\'s work queue.',
      labelNames: ['controller'],
      registers,
      // Read at scrape time so the gauge can never drift from the queue itself.
      collect() {
        for (const [controller, depth] of sources) this.set({ controller }, depth());
      },
    });
    this.workqueueRetries = new Counter({
      name: 'startup_factory_workqueue_retries_total',
      help: 'Keys re-queued with backoff after a failed reconcile.',
      labelNames: ['controller'],
      registers,
    });
    this.apiRequests = new Counter({
      name: 'startup_factory_api_requests_total',
      help: 'Requests to the Kubernetes API server by verb and HTTP status code; dry_run="true" on dry runs, which store nothing.',
      labelNames: ['verb', 'code', 'dry_run'],
      registers,
    });
    this.startups = new Gauge({
      name: 'startup_factory_startups',
      help: 'Startups by status.phase.',
      labelNames: ['phase'],
      registers,
      collect() {
        const source = phases();
        if (!source) return;
        const counts = new Map<string, number>();
        for (const s of source()) {
          // Not yet seen by the operator: no phase in status yet.
          const phase = s.status?.phase ?? 'Unknown';
          counts.set(phase, (counts.get(phase) ?? 0) + 1);
        }
        // A phase nobody is in any more must drop to zero, not keep its last value.
        this.reset();
        for (const [phase, n] of counts) this.set({ phase }, n);
      },
    });
    this.informerHealthy = new Gauge({
      name: 'startup_factory_informer_healthy',
      help: 'Whether a watch is synced and not recovering from a failure (1) or not (0), by kind and label selector: what /readyz checks.',
      labelNames: ['kind', 'selector'],
      registers,
      // Alerts see a watch that stays down; /readyz only takes the pod out of the Service.
      collect() {
        for (const { labels, healthy } of health) this.set(labels, healthy() ? 1 : 0);
      },
    });
  }

  /** Makes `startup_factory_informer_healthy{kind,selector}` report `healthy()` at each scrape. */
  trackInformerHealth(kind: string, selector: string, healthy: () => boolean): void {
    this.healthSources.push({ labels: { kind, selector }, healthy });
  }

  /** Makes `startup_factory_startups{phase}` count the given Startups (an informer's cache) at each scrape. */
  trackStartupPhases(startups: () => Iterable<{ status?: { phase?: string } }>): void {
    this.phaseSource = startups;
  }

  /** Makes `startup_factory_workqueue_depth{controller}` report `depth()` at each scrape. */
  trackQueueDepth(controller: string, depth: () => number): void {
    this.depthSources.set(controller, depth);
  }
}
