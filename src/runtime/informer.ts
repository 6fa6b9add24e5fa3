import { METADATA_ONLY, type KubeClient, type KubeObject, type ObjectMeta } from '../kube/client.ts';
import { ApiError, isGone } from '../kube/errors.ts';
import type { Logger } from '../observability/logger.ts';
import { sleep, systemClock, type Clock } from '../lib/clock.ts';
import { backoffDelay } from '../lib/rate-limit.ts';

export interface InformerHandlers<T> {
  add?(obj: T): void;
  /** Also called with `obj === old` on every periodic resync. */
  update?(obj: T, old: T): void;
  delete?(obj: T): void;
}

export interface InformerOptions {
  client: KubeClient;
  logger: Logger;
  apiVersion: string;
  kind: string;
  /** Watch one namespace only; all namespaces (or cluster-scoped objects) when unset. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Cache only metadata (labels, annotations, ownership), never the objects' data. */
  metadataOnly?: boolean;
  /**
   * Keep who owns which top-level fields (managedFields reduced to manager, operation
   * and the `f:` keys of the object's top level), so a metadata-only cache can still
   * tell that someone else wrote the data. Otherwise managedFields are dropped.
   */
  fieldOwners?: boolean;
  /** Every cached object is handed to `update` this often (0: never). */
  resyncMs?: number;
  /** No event, bookmark or (re)connection for this long means the watch is dead: restart with a relist. */
  watchdogMs?: number;
  /** Server-side watch timeout range; the server closes cleanly and we re-watch from the last resourceVersion. */
  watchTimeoutSeconds?: [number, number];
  /** Backoff between failed attempts (default 500 ms doubling to 30 s). */
  backoff?: { baseMs: number; maxMs: number };
  clock?: Clock;
}

class WatchdogExpired extends Error {
  constructor(ms: number) {
    super(`no watch event, bookmark or reconnection for ${ms} ms`);
    this.name = 'WatchdogExpired';
  }
}

/**
 * List-then-watch of one kind into an in-memory cache, that never gives up: any failure
 * (network, 5xx, 410 Gone, a watch that went silent) leads to a relist after backoff, and
 * `healthy()` says so meanwhile, for /readyz. Bookmarks keep the resume point fresh on quiet
 * kinds. Handlers run synchronously and must only enqueue keys.
 */
export class Informer<T extends KubeObject = KubeObject> {
  readonly kind: string;
  private readonly o: InformerOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly cache = new Map<string, T>();
  private readonly stopController = new AbortController();
  private resourceVersion: string | undefined;
  private synced = false;
  /** Consecutive failed attempts: drives the backoff; reset once a watch delivers again or ends cleanly. */
  private failures = 0;
  /** Set by a failure, cleared by the next successful relist (the cache is whole again). */
  private degraded = false;
  private lastError: string | undefined;
  private lastProgress = 0;
  private running: Promise<void> | undefined;
  private resyncTimer: unknown;
  private syncWaiters: (() => void)[] = [];

  constructor(options: InformerOptions) {
    this.o = options;
    this.kind = options.kind;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger.child({ informer: options.kind, ...(options.labelSelector ? { selector: options.labelSelector } : {}) });
  }

  addHandlers(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
  }

  start(): void {
    if (this.running) return;
    this.running = this.run();
    this.scheduleResync();
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    this.clock.clearTimeout(this.resyncTimer);
    await this.running;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.cache.get(cacheKey(namespace, name));
  }

  list(namespace?: string): T[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list has filled the cache (or when the informer stops). */
  waitForSync(): Promise<void> {
    if (this.synced || this.stopController.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** False before the first sync and while recovering from a failure: what /readyz reports. */
  healthy(): boolean {
    return this.synced && !this.degraded && !this.stopController.signal.aborted;
  }

  /** Why the informer is unhealthy, for /readyz output and logs. */
  status(): { kind: string; synced: boolean; healthy: boolean; lastError?: string } {
    return { kind: this.kind, synced: this.synced, healthy: this.healthy(), ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  private async run(): Promise<void> {
    const stopped = this.stopController.signal;
    const path = await this.collectionPath();
    while (path !== undefined && !stopped.aborted) {
      const attempt = new AbortController();
      const onStop = () => attempt.abort();
      stopped.addEventListener('abort', onStop, { once: true });
      const watchdog = this.armWatchdog(attempt);
      try {
        if (this.resourceVersion === undefined) await this.relist(attempt.signal);
        await this.watch(path, attempt.signal);
        // The server ended the watch cleanly (its timeout): resume from where we are. A watch
        // that lasted its term proves the server works even if it delivered nothing (a quiet
        // kind): the next failure must back off from the start, not from an outage long past.
        this.failures = 0;
      } catch (err) {
        if (stopped.aborted) break;
        const reason = attempt.signal.reason instanceof WatchdogExpired ? attempt.signal.reason : err;
        this.resourceVersion = undefined;
        if (isGone(reason)) {
          // Our resume point fell out of the server's history: relist at once, no failure.
          this.log.info('watch expired (410 Gone); relisting');
          continue;
        }
        this.failures++;
        this.degraded = true;
        this.lastError = reason instanceof Error ? reason.message : String(reason);
        const delay = this.backoff(this.failures - 1);
        this.log.warn({ err: reason, failures: this.failures, retryInMs: delay }, 'informer failed; restarting with a relist');
        await sleep(this.clock, delay, stopped);
      } finally {
        this.clock.clearTimeout(watchdog.timer);
        stopped.removeEventListener('abort', onStop);
      }
    }
    this.syncWaiters.splice(0).forEach((w) => w());
  }

  /** The kind's collection path, retried until discovery knows the kind (a CRD may be installed later); undefined once stopped. */
  private async collectionPath(): Promise<string | undefined> {
    const stopped = this.stopController.signal;
    for (let attempt = 0; !stopped.aborted; attempt++) {
      try {
        return await this.o.client.resourcePath(this.o.apiVersion, this.o.kind, this.o.namespace);
      } catch (err) {
        this.degraded = true;
        this.lastError = err instanceof Error ? err.message : String(err);
        this.log.warn({ err }, 'cannot resolve the kind yet; retrying');
        await sleep(this.clock, this.backoff(attempt), stopped);
      }
    }
    return undefined;
  }

  private async relist(signal: AbortSignal): Promise<void> {
    const list = await this.o.client.list<T>(this.o.apiVersion, this.o.kind, {
      ...(this.o.namespace ? { namespace: this.o.namespace } : {}),
      ...(this.o.labelSelector ? { labelSelector: this.o.labelSelector } : {}),
      ...(this.o.fieldSelector ? { fieldSelector: this.o.fieldSelector } : {}),
      ...(this.o.metadataOnly ? { accept: METADATA_ONLY.list } : {}),
      signal,
    });
    // Recovering from a failure, every object goes to the handlers, changed or not, as on a
    // resync: work that failed while the API server was away waits out a backoff that grew
    // all through the outage, and is due now.
    const unchanged = this.synced && this.degraded ? 'resync' : 'skip';
    const seen = new Set<string>();
    for (const obj of list.items) {
      seen.add(keyOf(obj));
      this.upsert(obj, unchanged);
    }
    for (const [key, obj] of this.cache) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit((h) => h.delete?.(obj));
      }
    }
    this.resourceVersion = list.metadata.resourceVersion ?? '';
    this.progress();
    if (this.degraded) this.log.info({ afterFailures: this.failures }, 'informer recovered');
    this.degraded = false;
    this.lastError = undefined;
    if (!this.synced) {
      this.synced = true;
      this.syncWaiters.splice(0).forEach((w) => w());
      this.log.info({ objects: this.cache.size }, 'informer synced');
    }
  }

  private async watch(path: string, signal: AbortSignal): Promise<void> {
    const [min, max] = this.o.watchTimeoutSeconds ?? [180, 270];
    const events = this.o.client.watch<T>(path, {
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: Math.round(min + Math.random() * (max - min)),
      labelSelector: this.o.labelSelector,
      fieldSelector: this.o.fieldSelector,
    }, signal, this.o.metadataOnly ? METADATA_ONLY.watch : undefined);
    for await (const event of events) {
      // A stream that delivers proves the watch works again: the next failure backs off from the start.
      this.failures = 0;
      this.progress();
      const obj = event.object;
      switch (event.type) {
        case 'ADDED':
        case 'MODIFIED':
          this.upsert(obj);
          break;
        case 'DELETED':
          if (this.cache.delete(keyOf(obj))) this.emit((h) => h.delete?.(obj));
          break;
        case 'BOOKMARK':
          break;
        case 'ERROR': {
          const status = obj as unknown as { code?: number; reason?: string; message?: string };
          throw new ApiError(status.code ?? 500, `watch ${this.kind}: ${status.message ?? 'error event'}`, status.reason, status);
        }
      }
      if (obj.metadata?.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
    }
  }

  /** `unchanged: 'resync'` hands an object that did not change to `update` all the same, as a resync does. */
  private upsert(obj: T, unchanged: 'skip' | 'resync' = 'skip'): void {
    // managedFields often outweigh the rest of the object; a cache keeps at most who owns what at the top.
    const { managedFields, ...rest } = obj.metadata as ObjectMeta & { managedFields?: ManagedFieldsEntry[] };
    const metadata = this.o.fieldOwners && managedFields ? { ...rest, managedFields: managedFields.map(topLevelOwnership) } : rest;
    const withType = { ...obj, apiVersion: this.o.apiVersion, kind: this.o.kind, metadata } as T;
    const key = keyOf(withType);
    const old = this.cache.get(key);
    // resourceVersion is opaque: only equality means "nothing changed".
    if (old && old.metadata.resourceVersion === withType.metadata.resourceVersion) {
      if (unchanged === 'resync') this.emit((h) => h.update?.(old, old));
      return;
    }
    this.cache.set(key, withType);
    if (old) this.emit((h) => h.update?.(withType, old));
    else this.emit((h) => h.add?.(withType));
  }

  private emit(call: (h: InformerHandlers<T>) => void): void {
    for (const h of this.handlers) {
      try {
        call(h);
      } catch (err) {
        this.log.error({ err }, 'informer handler threw; handlers must only enqueue');
      }
    }
  }

  private backoff(attempt: number): number {
    return backoffDelay(attempt, { baseMs: 500, maxMs: 30_000, jitter: 0.2, ...this.o.backoff });
  }

  private progress(): void {
    this.lastProgress = this.clock.now();
  }

  private armWatchdog(attempt: AbortController): { timer: unknown } {
    const window = this.o.watchdogMs ?? 300_000;
    const state: { timer: unknown } = { timer: undefined };
    this.progress();
    const check = () => {
      const idle = this.clock.now() - this.lastProgress;
      if (idle >= window) {
        // A watch can only go quiet like this on a dead connection, and its pooled siblings
        // are on the same path: whatever waits on them (other watches, a ledger write) would
        // wait out its own timeout for nothing.
        this.o.client.renewConnections('abandon');
        attempt.abort(new WatchdogExpired(window));
      }
      else state.timer = this.clock.setTimeout(check, window - idle);
    };
    state.timer = this.clock.setTimeout(check, window);
    return state;
  }

  /** Hands every cached object to `update` now, as the periodic resync does. */
  resync(): void {
    if (this.synced) for (const obj of this.cache.values()) this.emit((h) => h.update?.(obj, obj));
  }

  private scheduleResync(): void {
    const every = this.o.resyncMs ?? 0;
    if (every <= 0) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      this.resync();
      this.scheduleResync();
    }, every);
  }
}

function cacheKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

function keyOf(obj: KubeObject): string {
  return cacheKey(obj.metadata.namespace, obj.metadata.name ?? '');
}

/** The work-queue key of an object: `name` when cluster-scoped, `namespace/name` otherwise. */
export type ManagedFieldsEntry = { manager?: string; operation?: string; subresource?: string; fieldsV1?: Record<string, unknown> };

/** An entry of managedFields with only the top-level fields it owns (`f:data`, `f:metadata`...), each as `{}`. */
function topLevelOwnership(entry: ManagedFieldsEntry): ManagedFieldsEntry {
  return {
    ...(entry.manager ? { manager: entry.manager } : {}),
    ...(entry.operation ? { operation: entry.operation } : {}),
    ...(entry.subresource ? { subresource: entry.subresource } : {}),
    fieldsV1: Object.fromEntries(Object.keys(entry.fieldsV1 ?? {}).map((k) => [k, {}])),
  };
}

export function objectKey(obj: KubeObject): string {
  return keyOf(obj);
}

/** Splits a key made by `objectKey`. */
export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** Handlers that enqueue the object's own key. */
export function enqueueSelf(enqueue: (key: string) => void): InformerHandlers<KubeObject> {
  const put = (obj: KubeObject) => enqueue(objectKey(obj));
  return { add: put, update: put, delete: put };
}

/**
 * Handlers for owned objects: enqueue the owner named by their `label`, so a hand edit
 * or deletion of a child brings its owner back to the desired state.
 */
export function enqueueOwner(enqueue: (key: string) => void, label: string): InformerHandlers<KubeObject> {
  const put = (obj: KubeObject) => {
    const owner = obj.metadata.labels?.[label];
    if (owner) enqueue(owner);
  };
  return { add: put, update: put, delete: put };
}
