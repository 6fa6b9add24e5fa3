import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../lib/clock.ts';
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { isNotFound } from '../kube/errors.ts';
import { microTime } from '../kube/time.ts';
import type { Logger } from '../observability/logger.ts';

export const REPORTING_CONTROLLER = 'startupfactory.dev/operator';

export interface EventInput {
  type: 'Normal' | 'Warning';
  /** UpperCamelCase, machine-readable: `Provisioned`, `QuotaUpdated`, `TaskFailed`. */
  reason: string;
  /** What the operator did or failed to do: `Provision`, `Render`, `RunTask`. */
  action: string;
  /** Human-readable, at most 1 kB. Never put a secret here. */
  note: string;
}

interface Series {
  name: string;
  namespace: string;
  count: number;
  lastAt: number;
}

export interface EventRecorderOptions {
  client: KubeClient;
  logger: Logger;
  /** This replica (pod name): tells apart events from different operator instances. */
  reportingInstance: string;
  clock?: Clock;
  /** Events waiting to be written beyond this many are dropped (the API is down or slow). */
  maxPending?: number;
  /** A repeat within this window extends the first Event's series instead of creating another. */
  seriesWindowMs?: number;
}

/**
 * Writes events.k8s.io/v1 Events about our objects. `record` returns at once: writing happens
 * in the background, in order, and a failure is logged, never thrown, so an overloaded API
 * server slows event delivery but never a reconcile. Repeats of the same event become a
 * series (count, lastObservedTime) on one Event, as client-go does.
 */
export class EventRecorder {
  private readonly o: EventRecorderOptions;
  private readonly clock: Clock;
  private readonly series = new Map<string, Series>();
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;
  private dropped = 0;

  constructor(options: EventRecorderOptions) {
    this.o = options;
    this.clock = options.clock ?? systemClock;
  }

  record(regarding: KubeObject, event: EventInput): void {
    if (this.pending >= (this.o.maxPending ?? 1000)) {
      this.dropped++;
      if (this.dropped === 1 || this.dropped % 100 === 0) this.o.logger.warn({ dropped: this.dropped }, 'event backlog full; dropping events');
      return;
    }
    this.pending++;
    this.tail = this.tail
      .then(() => this.write(regarding, event))
      .catch((err: unknown) => this.o.logger.warn({ err, reason: event.reason }, 'could not record event'))
      .finally(() => { this.pending--; });
  }

  /** Resolves once every event recorded so far has been written (or has failed). */
  flush(): Promise<void> {
    return this.tail;
  }

  private async write(regarding: KubeObject, e: EventInput): Promise<void> {
    const now = this.clock.now();
    const note = e.note.length > 1024 ? `${e.note.slice(0, 1021)}...` : e.note;
    const key = [regarding.metadata.uid ?? `${regarding.kind}/${regarding.metadata.namespace}/${regarding.metadata.name}`, e.type, e.reason, e.action, note].join('\u0000');
    this.expire(now);
    const existing = this.series.get(key);
    if (existing) {
      try {
        await this.o.client.mergePatch(
          { apiVersion: 'events.k8s.io/v1', kind: 'Event', namespace: existing.namespace, name: existing.name },
          { series: { count: existing.count + 1, lastObservedTime: microTime(now) } },
        );
        existing.count++;
        existing.lastAt = now;
        return;
      } catch (err) {
        // The Event aged out of the API server (its TTL): start a new one.
        if (!isNotFound(err)) throw err;
        this.series.delete(key);
      }
    }
    // Cluster-scoped objects (our Startups) get their events in `default`, as client-go does.
    const namespace = regarding.metadata.namespace ?? 'default';
    const name = `${regarding.metadata.name}.${now.toString(16)}${randomBytes(3).toString('hex')}`;
    await this.o.client.create({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'startup-factory' } },
      eventTime: microTime(now),
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.o.reportingInstance,
      action: e.action,
      reason: e.reason,
      note,
      type: e.type,
      regarding: {
        apiVersion: regarding.apiVersion,
        kind: regarding.kind,
        name: regarding.metadata.name,
        ...(regarding.metadata.namespace ? { namespace: regarding.metadata.namespace } : {}),
        ...(regarding.metadata.uid ? { uid: regarding.metadata.uid } : {}),
        ...(regarding.metadata.resourceVersion ? { resourceVersion: regarding.metadata.resourceVersion } : {}),
      },
    });
    this.series.set(key, { name, namespace, count: 1, lastAt: now });
  }

  private expire(now: number): void {
    const window = this.o.seriesWindowMs ?? 6 * 60_000;
    for (const [key, s] of this.series) if (now - s.lastAt > window) this.series.delete(key);
  }
}
