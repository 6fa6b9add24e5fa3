import type { KubeClient, KubeObject } from '../kube/client.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../kube/errors.ts';
import { sleep, type Clock } from '../lib/clock.ts';
import type { Logger } from '../observability/logger.ts';
import { MANAGED_BY, MANAGED_BY_LABEL, STARTUP_LABEL, ownerReference, type StartupRef } from '../provisioning/metadata.ts';
import { randomUUID } from 'node:crypto';
import {
  SPARE_HEADROOM, SPARE_IDLE_MS, addSpares, closeOrphans, fitSpare, emptyLedger, parseLedger, recordCacheHit, reserve, roll, settle, spareFits, sparesOf,
  type LedgerState, type Limits, type Outcome, type Refusal, type ReserveRequest,
} from './ledger.ts';

export const LEDGER_LABEL = 'startupfactory.dev/ledger';
/** The key of the ConfigMap's data that holds the ledger's JSON. */
export const LEDGER_DATA_KEY = 'ledger.json';
const UID_ANNOTATION = 'startupfactory.dev/startup-uid';

export function ledgerName(startup: string): string {
  return `ledger-${startup}`;
}

export type LedgerConfigMap = KubeObject & { data?: Record<string, string> };

type Op =
  | { kind: 'reserve'; request: ReserveRequest; limits: Limits; resolve(result: ReserveResult): void; reject(err: unknown): void }
  | { kind: 'settle'; id: string; outcome: Outcome; task: string | undefined }
  | { kind: 'cacheHit'; task: string }
  | { kind: 'sweep' }
  /** A spare was taken (`took`, shrunk to the worst case of the call that took it), or a call is expected: make spares like it. */
  | { kind: 'refill'; like: ReserveRequest; limits: Limits; took?: string }
  /** Releases this process's untaken spares made before `before`. */
  | { kind: 'trim'; before: number };

/** Ops a caller is, or soon will be, waiting on: written at once rather than lingering. */
const urgent = (op: Op) => op.kind === 'reserve' || op.kind === 'refill';

/** `id` is the reservation the call settles: its own, or the spare it took. */
export type ReserveResult = { ok: true; id: string } | { ok: false; refusal: Refusal };

type Entry = {
  startup: StartupRef;
  state: LedgerState;
  /** Of the ConfigMap as last read or written; undefined while it does not exist. */
  resourceVersion: string | undefined;
  queue: Op[];
  writing: Promise<void> | undefined;
  /** This process's spares on record and not taken (see `addSpares`). */
  spares: string[];
  /** Spares taken by calls whose settlement is not yet on record. */
  handed: Set<string>;
  /** Settlements and cache hits wait this long for a reservation to share a write with. */
  linger: unknown;
  /** The batch being committed now (one write, retried on a conflict), and the largest worst case a spare it makes will carry. */
  committing: Promise<unknown> | undefined;
  coming: number;
};

/**
 * How long a settlement waits before it is written on its own. A call's settlement and
 * the next call's reservation then go out in one write: one write per call instead of
 * two. Nothing is lost by the wait: a crash before it lands charges the call at its
 * reservation, never less.
 */
const SETTLE_LINGER_MS = 100;

export type LedgerStoreOptions = {
  client: KubeClient;
  /** The operator's namespace: ledgers live beside the provider keys, out of the startups' reach. */
  namespace: string;
  /** This process: its reservations are the only open ones it may settle. */
  holder: string;
  clock: Clock;
  logger: Logger;
  /** After every write: usage or the budget's state may have changed. */
  onChange(startup: string): void;
  /**
   * The ledger ConfigMap as an informer holds it, so loading a thousand ledgers costs
   * one list instead of a thousand reads. A stale copy is harmless: every write is a
   * compare-and-swap that re-reads on conflict.
   */
  cached?(name: string): LedgerConfigMap | undefined;
};

/**
 * The ledgers, one ConfigMap per startup in the operator's namespace, and the only way
 * to change them. A reservation resolves only once it is written, so every admitted call
 * is on record before it is forwarded: a restarted or failed-over operator finds it and
 * charges it. Writes are compare-and-swap on the resourceVersion: the budget check runs
 * against the state the write replaces, so no two writers (replicas during a failover,
 * concurrent calls) can both spend the last of a budget. Concurrent operations on one
 * ledger are committed together, one write per batch, so 50 calls in flight cost a few
 * writes, not 50 in a row.
 */
export class LedgerStore {
  readonly #o: LedgerStoreOptions;
  readonly #entries = new Map<string, Promise<Entry>>();
  /** The same entries once loaded, so a settlement is queued at once, not a microtask later (which `stop` could miss). */
  readonly #loaded = new Map<string, Entry>();
  #stopped = false;

  constructor(options: LedgerStoreOptions) {
    this.#o = options;
  }

  /**
   * Reserves a call's worst case, durably; refused when a budget would be exceeded. A spare
   * that fits is taken at once: its worst case is on record already.
   */
  async reserve(startup: StartupRef, limits: Limits, request: ReserveRequest): Promise<ReserveResult> {
    if (this.#stopped) throw new Error('the ledger is stopping');
    const entry = await this.#entry(startup);
    let spare = this.#takeSpare(entry, limits, request);
    // A write in flight is making a spare that would carry this call (one expected ahead, or
    // another call's refill): its end is sooner than a write of this call's own after it.
    if (!spare && entry.committing && entry.coming >= request.costMicros) {
      await entry.committing;
      if (this.#stopped) throw new Error('the ledger is stopping');
      spare = this.#takeSpare(entry, limits, request);
    }
    if (spare) return spare;
    return new Promise<ReserveResult>((resolve, reject) => {
      entry.queue.push({ kind: 'reserve', request, limits, resolve, reject });
      this.#kick(entry);
    });
  }

  /**
   * Makes spares for a call expected soon (a task attempt whose pod is starting), shaped
   * like `like`, unless one that carries it is there already: the call then goes out
   * without waiting for a write of its own.
   */
  async expect(startup: StartupRef, limits: Limits, like: ReserveRequest): Promise<void> {
    if (this.#stopped) return;
    const entry = await this.#entry(startup);
    if (this.#fittingSpare(entry, like) >= 0) return;
    entry.queue.push({ kind: 'refill', like, limits });
    this.#kick(entry);
  }

  /** The index in `entry.spares` of one that carries `request` now, or -1. */
  #fittingSpare(entry: Entry, request: ReserveRequest): number {
    const now = this.#o.clock.now();
    return entry.spares.findIndex((id) => spareFits(entry.state, id, request, now));
  }

  /** A spare that carries `request`, taken, and another like it to be made. */
  #takeSpare(entry: Entry, limits: Limits, request: ReserveRequest): ReserveResult | undefined {
    const spare = this.#fittingSpare(entry, request);
    if (spare < 0) return undefined;
    const [id] = entry.spares.splice(spare, 1) as [string];
    entry.handed.add(id);
    entry.queue.push({ kind: 'refill', like: request, limits, took: id });
    this.#kick(entry);
    return { ok: true, id };
  }

  /**
   * Ends a reservation, in `task`'s usage; written in the background (a crash before it
   * lands charges the reservation in full).
   */
  settle(startup: StartupRef, id: string, outcome: Outcome, task?: string): void {
    this.#background(startup, { kind: 'settle', id, outcome, task }, 'could not load a ledger to settle a call; its reservation stays charged');
  }

  /**
   * Counts a call answered from the response cache in its task's usage; written in the
   * background like a settlement, and never refused or held for the budget: it spends none.
   */
  cacheHit(startup: StartupRef, task: string): void {
    this.#background(startup, { kind: 'cacheHit', task }, 'could not load a ledger to count a cache hit');
  }

  /** Queues an operation no caller waits for: it shares the next write (see SETTLE_LINGER_MS). */
  #background(startup: StartupRef, op: Extract<Op, { kind: 'settle' | 'cacheHit' }>, failure: string): void {
    const queue = (entry: Entry) => {
      entry.queue.push(op);
      this.#kick(entry);
    };
    const loaded = this.#loaded.get(startup.name);
    if (loaded?.startup.uid === startup.uid) return queue(loaded);
    void this.#entry(startup).then(queue, (err: unknown) => this.#o.logger.error({ err, startup: startup.name }, failure));
  }

  /** The ledger in the windows of now, loading it when this process has not yet. */
  async snapshot(startup: StartupRef): Promise<LedgerState> {
    return roll((await this.#entry(startup)).state, this.#o.clock.now());
  }

  /**
   * Charges reservations past their deadline and releases idle spares, in every ledger this
   * process holds; all of a Startup's spares when `working` says no more of its calls are
   * coming (its pipeline is over, suspended or paused), so its budget is whole at once.
   */
  sweep(working: (startup: string) => boolean = () => true): void {
    const now = this.#o.clock.now();
    for (const pending of this.#entries.values()) {
      void pending.then((entry) => {
        const before = working(entry.startup.name) ? now - SPARE_IDLE_MS : Infinity;
        if (entry.spares.some((id) => (entry.state.open[id]?.at ?? now) < before)) entry.queue.push({ kind: 'trim', before });
        if (Object.values(entry.state.open).some((r) => r.deadline < now)) entry.queue.push({ kind: 'sweep' });
        if (entry.queue.length > 0) this.#kick(entry);
      }, () => undefined);
    }
  }

  /** Refuses new reservations and waits (up to `deadlineMs`) for queued writes, lingering ones included, to land. */
  async stop(deadlineMs: number): Promise<void> {
    this.#stopped = true;
    // Untaken spares would be charged in full by the next leader: give them back, the ones a
    // write in flight is making too (the trim goes in the write after it).
    for (const entry of this.#loaded.values()) {
      if (entry.spares.length === 0 && !entry.writing) continue;
      entry.queue.push({ kind: 'trim', before: Infinity });
      this.#kick(entry);
    }
    const clock = this.#o.clock;
    const until = clock.now() + deadlineMs;
    for (;;) {
      const entries = await Promise.all([...this.#entries.values()].map((p) => p.catch(() => undefined)));
      const busy = entries.filter((e): e is Entry => e !== undefined && (e.writing !== undefined || e.queue.length > 0));
      const left = until - clock.now();
      if (busy.length === 0 || left <= 0) return;
      for (const e of busy) this.#kick(e);
      let timer: unknown;
      await Promise.race([Promise.all(busy.map((e) => e.writing)), new Promise((r) => { timer = clock.setTimeout(() => r(undefined), left); })]);
      clock.clearTimeout(timer);
    }
  }

  /** Forgets startups that no longer exist (their ConfigMaps go with them by garbage collection). */
  retain(uids: ReadonlySet<string>): void {
    for (const [name, pending] of this.#entries) {
      void pending.then((e) => {
        if (uids.has(e.startup.uid) || e.writing || e.queue.length > 0) return;
        this.#entries.delete(name);
        if (this.#loaded.get(name) === e) this.#loaded.delete(name);
      }, () => this.#entries.delete(name));
    }
  }

  #entry(startup: StartupRef): Promise<Entry> {
    const existing = this.#entries.get(startup.name);
    const load = async (): Promise<Entry> => {
      const entry = await this.#load(startup);
      this.#loaded.set(startup.name, entry);
      // A predecessor's calls in flight can no longer be settled by it: charge them now.
      if (closeOrphans(entry.state, this.#o.holder, this.#o.clock.now()) !== entry.state) {
        entry.queue.push({ kind: 'sweep' });
        this.#kick(entry);
      }
      return entry;
    };
    if (existing) {
      return existing.then((e) => {
        if (e.startup.uid === startup.uid) return e;
        // The Startup was deleted and made again under the same name: a new ledger.
        const fresh = load();
        this.#entries.set(startup.name, fresh);
        return fresh;
      });
    }
    const pending = load();
    this.#entries.set(startup.name, pending);
    pending.catch(() => this.#entries.delete(startup.name));
    return pending;
  }

  async #load(startup: StartupRef): Promise<Entry> {
    const cm = this.#o.cached ? this.#o.cached(ledgerName(startup.name)) : await this.#o.client.getOptional<LedgerConfigMap>(this.#ref(startup.name));
    const parsed = this.#parse(cm, startup);
    // A spare of this process's own on record when its ledger is loaded again (forgotten meanwhile) is no longer
    // known to be untaken: closeOrphans does not charge it (same holder), so it waits for its deadline and is
    // charged then, never reused. A predecessor's (a restarted container's too) closeOrphans charges at once.
    return { startup, ...parsed, queue: [], writing: undefined, linger: undefined, committing: undefined, coming: 0, spares: [], handed: new Set(sparesOf(parsed.state, this.#o.holder)) };
  }

  #parse(cm: LedgerConfigMap | undefined, startup: StartupRef): { state: LedgerState; resourceVersion: string | undefined } {
    const now = this.#o.clock.now();
    if (!cm) return { state: emptyLedger(now), resourceVersion: undefined };
    const sameStartup = cm.metadata.annotations?.[UID_ANNOTATION] === startup.uid;
    let state = emptyLedger(now);
    if (sameStartup) {
      try {
        state = parseLedger(cm.data?.[LEDGER_DATA_KEY] ?? '');
      } catch {
        // An unreadable ledger is a bug or tampering: starting over could overspend, so say so loudly.
        this.#o.logger.error({ startup: startup.name }, 'ledger ConfigMap is unreadable; starting a new ledger');
      }
    }
    return { state, resourceVersion: cm.metadata.resourceVersion };
  }

  /** Starts a write now when a reservation waits for one, else after SETTLE_LINGER_MS. */
  #kick(entry: Entry): void {
    if (entry.writing) return;
    if (!this.#stopped && !entry.queue.some(urgent)) {
      entry.linger ??= this.#o.clock.setTimeout(() => {
        entry.linger = undefined;
        this.#write(entry);
      }, SETTLE_LINGER_MS);
      return;
    }
    this.#o.clock.clearTimeout(entry.linger);
    entry.linger = undefined;
    this.#write(entry);
  }

  #write(entry: Entry): void {
    if (entry.writing || entry.queue.length === 0) return;
    entry.writing = this.#drain(entry).then((gaveUp) => {
      entry.writing = undefined;
      // What came in during the last write and did not fit in it (settlements and cache hits only) lingers;
      // a stopping store that gave up on the API server leaves the rest to the next leader.
      if (entry.queue.length > 0 && !gaveUp) this.#kick(entry);
    });
  }

  /** Commits queued operations batch by batch until none is left; true when it gave up (stopping, the API server away). */
  async #drain(entry: Entry): Promise<boolean> {
    let failures = 0;
    for (let first = true; entry.queue.length > 0; first = false) {
      // After the first batch, settlements and cache hits alone wait (linger) for a reservation to share a write with.
      if (!first && failures === 0 && !this.#stopped && !entry.queue.some(urgent)) return false;
      const batch = entry.queue.splice(0);
      entry.coming = SPARE_HEADROOM * Math.max(0, ...batch.map((op) => (op.kind === 'refill' ? op.like.costMicros : op.kind === 'reserve' ? op.request.costMicros : 0)));
      const committing = this.#commit(entry, batch);
      entry.committing = committing.catch(() => undefined);
      try {
        await committing;
        entry.committing = undefined;
        failures = 0;
        this.#o.onChange(entry.startup.name);
      } catch (err) {
        entry.committing = undefined;
        failures++;
        // A call must not go out on a reservation that is not on record: refuse it now (the caller retries).
        for (const op of batch) if (op.kind === 'reserve') op.reject(err);
        const keep = batch.filter((op) => op.kind !== 'reserve');
        entry.queue.unshift(...keep);
        this.#o.logger.warn({ err, startup: entry.startup.name, pending: keep.length }, 'could not write the ledger; retrying');
        if (this.#stopped && failures > 3) return true;
        await sleep(this.#o.clock, Math.min(10_000, 100 * 2 ** failures));
      }
    }
    return false;
  }

  /**
   * Applies a batch to the ledger as stored and writes it; on a conflict, re-reads and
   * applies it again. Spares to release leave `entry.spares` before anything is awaited,
   * so no call can take one that is going.
   */
  async #commit(entry: Entry, batch: Op[]): Promise<void> {
    const holder = this.#o.holder;
    const releasing = new Set<string>();
    const release = (keep: (id: string) => boolean) => {
      entry.spares = entry.spares.filter((id) => keep(id) || !releasing.add(id));
    };
    for (let attempt = 0; ; attempt++) {
      const now = this.#o.clock.now();
      // A replica that is stopping only settles its own calls; taking over others' is for the one that leads.
      const rolled = roll(entry.state, now);
      let state = this.#stopped ? rolled : closeOrphans(rolled, holder, now);
      const results: [Extract<Op, { kind: 'reserve' }>, ReserveResult][] = [];
      let like: { request: ReserveRequest; limits: Limits } | undefined;
      const released = (s: LedgerState) => [...releasing].reduce((next, id) => settle(next, id, { kind: 'released' }, now), s);
      for (const op of batch) {
        if (op.kind === 'reserve') {
          let r = reserve(state, op.request, op.limits, now);
          if (!r.ok && entry.spares.length > 0) {
            // Never refused for budget this process's own untaken spares hold.
            release(() => false);
            r = reserve(released(state), op.request, op.limits, now);
          }
          state = r.state;
          results.push([op, r.ok ? { ok: true, id: op.request.id } : { ok: false, refusal: r.refusal }]);
          if (r.ok) like = { request: op.request, limits: op.limits };
        } else if (op.kind === 'refill') {
          if (op.took) state = fitSpare(state, op.took, op.like.costMicros);
          like = { request: op.like, limits: op.limits };
        } else if (op.kind === 'settle') {
          state = settle(state, op.id, op.outcome, now, op.task);
        } else if (op.kind === 'cacheHit') {
          state = recordCacheHit(state, op.task, now);
        } else if (op.kind === 'trim') {
          release((id) => (state.open[id]?.at ?? 0) >= op.before);
        }
      }
      if (like && !this.#stopped) {
        // A spare smaller than the latest call's worst case would not carry it: make ones that do.
        const cost = like.request.costMicros;
        release((id) => (state.open[id]?.costMicros ?? 0) >= cost);
        state = addSpares(released(state), like.request, entry.spares.length, like.limits, now, randomUUID);
      } else {
        state = released(state);
      }
      if (state !== entry.state) {
        try {
          entry.resourceVersion = await this.#put(entry, state);
        } catch (err) {
          if ((!isConflict(err) && !isAlreadyExists(err) && !isNotFound(err)) || attempt >= 10) throw err;
          // Someone else wrote (a replica in a failover): decide again on top of what they wrote.
          const parsed = this.#parse(await this.#o.client.getOptional<LedgerConfigMap>(this.#ref(entry.startup.name)), entry.startup);
          entry.state = parsed.state;
          entry.resourceVersion = parsed.resourceVersion;
          continue;
        }
        entry.state = state;
      }
      for (const id of entry.handed) if (!state.open[id]) entry.handed.delete(id);
      entry.spares = sparesOf(state, holder).filter((id) => !entry.handed.has(id));
      for (const [op, result] of results) op.resolve(result);
      return;
    }
  }

  /** Writes the ledger, creating its ConfigMap the first time; returns the new resourceVersion. */
  async #put(entry: Entry, state: LedgerState): Promise<string | undefined> {
    const { client, namespace } = this.#o;
    const body: LedgerConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: ledgerName(entry.startup.name),
        namespace,
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [STARTUP_LABEL]: entry.startup.name, [LEDGER_LABEL]: 'true' },
        annotations: { [UID_ANNOTATION]: entry.startup.uid },
        // Owned by the Startup: the ledger goes when it does.
        ownerReferences: [ownerReference(entry.startup)],
        ...(entry.resourceVersion ? { resourceVersion: entry.resourceVersion } : {}),
      },
      data: { [LEDGER_DATA_KEY]: JSON.stringify(state) },
    };
    const written = entry.resourceVersion ? await client.replace(body) : await client.create(body);
    return written.metadata.resourceVersion;
  }

  #ref(startup: string) {
    return { apiVersion: 'v1', kind: 'ConfigMap', namespace: this.#o.namespace, name: ledgerName(startup) };
  }
}
