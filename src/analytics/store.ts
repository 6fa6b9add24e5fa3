import type { Startup } from '../api/index.ts';
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../kube/errors.ts';
import type { Clock } from '../lib/clock.ts';
import { backoffDelay } from '../lib/rate-limit.ts';
import type { Logger } from '../observability/logger.ts';
import type { Informer } from '../runtime/informer.ts';
import type { LeaderRunnable, Manager } from '../runtime/manager.ts';
import {
  buildReport, emptyAnalytics, fitToSize, observeStartup, parseAnalytics, prune, serializeAnalytics, settlesAt,
  type AnalyticsReport, type AnalyticsState, type ReportQuery,
} from './model.ts';

export const ANALYTICS_CONFIGMAP = 'startup-factory-analytics';
export const ANALYTICS_LABEL = 'startupfactory.dev/analytics';
export const ANALYTICS_KEY = 'analytics.json';

export type AnalyticsConfigMap = KubeObject & { data?: Record<string, string> };

/** What the dashboard and the operator's callers read. */
export type AnalyticsView = { report(query: ReportQuery): AnalyticsReport };

export type AnalyticsRecorderOptions = {
  client: KubeClient;
  /** The operator's namespace: the figures outlive every Startup, so they live beside the operator. */
  namespace: string;
  /** The Startups as the informer holds them: everything is recounted from them, so no event can be missed. */
  startups(): readonly Startup[];
  /** The analytics ConfigMap as its informer holds it, read when a term of leadership begins. */
  cached(): AnalyticsConfigMap | undefined;
  clock: Clock;
  logger: Logger;
};

/** The least time between two writes, and how long a change waits for others to share its pass. */
const WRITE_INTERVAL_MS = 2_000;

/** The state a ConfigMap holds, parsed once per version of the object (the informer replaces it when it changes). */
function stateReader(onCorrupt?: (reason: string) => void): (cm: AnalyticsConfigMap | undefined) => AnalyticsState {
  let last: { cm: AnalyticsConfigMap | undefined; state: AnalyticsState } | undefined;
  return (cm) => {
    if (!last || last.cm !== cm) last = { cm, state: parseAnalytics(cm?.data?.[ANALYTICS_KEY], onCorrupt) };
    return last.state;
  };
}

/**
 * The analytics writer: leader-only, the only writer of the analytics ConfigMap. Each
 * pass folds every Startup of the informer into the state (`observeStartup` counts
 * only what it has not counted), prunes, and writes only when that made a new state,
 * at most once per WRITE_INTERVAL_MS however many Startups change. The figures and the keys
 * of what they count are one value in one object, written compare-and-swap on its
 * resourceVersion: a write either lands both or neither, so nothing is counted twice or
 * lost across restarts and failovers; on a conflict the pass is made again on what the
 * other writer left.
 */
export class AnalyticsRecorder implements LeaderRunnable {
  readonly name = 'analytics';
  readonly #o: AnalyticsRecorderOptions;
  readonly #read: ReturnType<typeof stateReader>;
  #leading = false;
  #state: AnalyticsState = emptyAnalytics();
  /** Of the ConfigMap as last read or written; undefined while it does not exist. */
  #resourceVersion: string | undefined;
  #timer: unknown;
  #due: number | undefined;
  #pass: Promise<void> | undefined;
  /** When the pass under way is done, the next one is due then. */
  #next: number | undefined;
  #lastWrite = Number.NEGATIVE_INFINITY;
  /** After a failure, no pass before this. */
  #notBefore = 0;
  #failures = 0;

  constructor(options: AnalyticsRecorderOptions) {
    this.#o = options;
    // Starting over is all that can be done with unreadable figures, but not silently.
    this.#read = stateReader((reason) => options.logger.error({ reason }, 'the analytics ConfigMap is unreadable; counting afresh'));
  }

  /** A new term: what the previous leader wrote is in the cache (a stale copy only costs a conflict). */
  start(): void {
    const cm = this.#o.cached();
    this.#state = this.#read(cm);
    this.#resourceVersion = cm?.metadata.resourceVersion;
    this.#failures = 0;
    this.#notBefore = 0;
    this.#leading = true;
    this.#schedule(this.#o.clock.now());
  }

  /** Some Startup changed: a pass within WRITE_INTERVAL_MS. */
  changed(): void {
    this.#schedule(this.#o.clock.now() + WRITE_INTERVAL_MS);
  }

  /** Makes the pass a change is waiting for, then stops; the next leader recounts the rest from the Startups. */
  async stop(deadlineMs: number): Promise<void> {
    this.#leading = false;
    const pending = this.#timer !== undefined || this.#next !== undefined;
    this.#clearTimer();
    this.#next = undefined;
    const last = (async () => {
      await this.#pass;
      if (pending) await this.#sync().catch((err: unknown) => this.#o.logger.warn({ err }, 'could not write analytics before stopping'));
    })();
    let timer: unknown;
    await Promise.race([last, new Promise((resolve) => { timer = this.#o.clock.setTimeout(() => resolve(undefined), deadlineMs); })]);
    this.#o.clock.clearTimeout(timer);
  }

  /** A pass at `at` or later: never within WRITE_INTERVAL_MS of the last write, nor before a failure's backoff ends. */
  #schedule(at: number): void {
    if (!this.#leading) return;
    const when = Math.max(at, this.#lastWrite + WRITE_INTERVAL_MS, this.#notBefore);
    if (this.#pass) {
      this.#next = Math.min(this.#next ?? Number.POSITIVE_INFINITY, when);
      return;
    }
    if (this.#due !== undefined && this.#due <= when) return;
    this.#clearTimer();
    this.#due = when;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#due = undefined;
      this.#run();
    }, Math.max(0, when - this.#o.clock.now()));
  }

  #clearTimer(): void {
    this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due = undefined;
  }

  #run(): void {
    this.#pass = this.#sync().then(
      (settles) => {
        this.#failures = 0;
        this.#notBefore = 0;
        return settles;
      },
      (err: unknown) => {
        this.#failures++;
        const retryInMs = backoffDelay(this.#failures - 1, { baseMs: 1_000, maxMs: 60_000, jitter: 0.2 });
        this.#notBefore = this.#o.clock.now() + retryInMs;
        this.#o.logger.warn({ err, retryInMs }, 'could not write analytics; retrying');
        return this.#notBefore;
      },
    ).then((then) => {
      this.#pass = undefined;
      const wanted = [this.#next, then].filter((t): t is number => t !== undefined);
      this.#next = undefined;
      if (wanted.length > 0) this.#schedule(Math.min(...wanted));
    });
  }

  /**
   * One pass: recount, and write when that changed anything; on a conflict, again on what
   * is stored. Returns when a completion waiting out its SETTLE_MS is due, so it gets a pass
   * then whether or not its Startup changes again.
   */
  async #sync(): Promise<number | undefined> {
    for (let attempt = 0; ; attempt++) {
      const now = new Date(this.#o.clock.now());
      const startups = this.#o.startups();
      let next = this.#state;
      for (const s of startups) next = observeStartup(next, s, now);
      next = prune(next, new Set(startups.map((s) => s.metadata.uid ?? '')), now);
      const fitted = fitToSize(next);
      if (fitted !== next) this.#o.logger.warn({ days: fitted.days.length, hours: fitted.hours.length }, 'analytics outgrew their ConfigMap; dropped the oldest buckets');
      const due = startups.reduce<number | undefined>((soonest, s) => {
        const at = settlesAt(s, now)?.getTime();
        return at === undefined || (soonest !== undefined && soonest <= at) ? soonest : at;
      }, undefined);
      if (fitted === this.#state) return due;
      try {
        this.#resourceVersion = await this.#put(fitted);
        this.#state = fitted;
        this.#lastWrite = this.#o.clock.now();
        return due;
      } catch (err) {
        if ((!isConflict(err) && !isAlreadyExists(err) && !isNotFound(err)) || attempt >= 10) throw err;
        // Another writer (the previous leader, a hand edit) got there first: count on top of what it left.
        const stored = await this.#o.client.getOptional<AnalyticsConfigMap>(this.#ref());
        this.#state = this.#read(stored);
        this.#resourceVersion = stored?.metadata.resourceVersion;
      }
    }
  }

  async #put(state: AnalyticsState): Promise<string | undefined> {
    const body: AnalyticsConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: ANALYTICS_CONFIGMAP,
        namespace: this.#o.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'startup-factory', [ANALYTICS_LABEL]: 'true' },
        ...(this.#resourceVersion ? { resourceVersion: this.#resourceVersion } : {}),
      },
      data: { [ANALYTICS_KEY]: serializeAnalytics(state) },
    };
    const written = this.#resourceVersion ? await this.#o.client.replace(body) : await this.#o.client.create(body);
    return written.metadata.resourceVersion;
  }

  #ref() {
    return { apiVersion: 'v1', kind: 'ConfigMap', namespace: this.#o.namespace, name: ANALYTICS_CONFIGMAP };
  }
}

/**
 * The analytics, composed: an informer of the ConfigMap (on every replica, so any of them
 * answers reports from memory), the recorder as leader-only work fed by the Startup
 * informer, and the reports read from the cached ConfigMap.
 */
export function setupAnalytics(manager: Manager, deps: { startups: Informer<Startup>; clock: Clock }): AnalyticsView {
  const { namespace } = manager.config;
  const maps = manager.informer<AnalyticsConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', namespace, labelSelector: `${ANALYTICS_LABEL}=true`, resyncMs: 0 });
  const cached = () => maps.get(ANALYTICS_CONFIGMAP, namespace);
  const recorder = new AnalyticsRecorder({
    client: manager.client, namespace, startups: () => deps.startups.list(), cached,
    clock: deps.clock, logger: manager.logger.child({ component: 'analytics' }),
  });
  const changed = () => recorder.changed();
  deps.startups.addHandlers({ add: changed, update: changed, delete: changed });
  manager.leaderRunnable(recorder);
  const read = stateReader();
  return { report: (query) => buildReport(read(cached()), query) };
}
