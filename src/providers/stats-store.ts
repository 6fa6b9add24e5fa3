import { API_GROUP_VERSION, type AIProvider, type TaskType } from '../api/index.ts';
import { PROVIDER_STATS } from '../api/status-owners.ts';
import type { KubeClient } from '../kube/client.ts';
import { isNotFound } from '../kube/errors.ts';
import type { Clock } from '../lib/clock.ts';
import { backoffDelay } from '../lib/rate-limit.ts';
import type { Logger } from '../observability/logger.ts';
import type { LeaderRunnable } from '../runtime/manager.ts';
import { applyOwnedStatus } from '../runtime/status.ts';
import { DEFAULT_STATS_POLICY, recordSample, statsByType, statsList, type Sample, type StatsPolicy, type TaskStats } from './stats.ts';

export type ProviderStatsRecorderOptions = {
  client: KubeClient;
  /** The AIProviders as the informer holds them (`Informer.get`): where the evidence is loaded from. */
  cached(name: string): AIProvider | undefined;
  clock: Clock;
  logger: Logger;
  /** The same policy the router reads the evidence with (default DEFAULT_STATS_POLICY). */
  policy?: StatsPolicy;
  /** The least time between two writes of one provider's stats (default 1 s). */
  flushMs?: number;
};

type Entry = {
  /** Of the AIProvider the evidence was loaded from: one deleted and made again starts afresh. */
  uid: string;
  stats: Map<TaskType, TaskStats>;
  /** Changed since the last write began. */
  dirty: boolean;
  timer: unknown;
  writing: Promise<void> | undefined;
  failures: number;
};

/**
 * The learning engine's memory: every measured call folded into its provider's
 * `status.stats`, written by server-side apply under a field manager of its own
 * (PROVIDER_STATS), so the AIProvider controller's readiness writes and these never
 * remove each other's fields, and every startup's calls teach the same evidence.
 *
 * Leader-only, and the only writer of stats: its memory, loaded from the informer's
 * cached status the first time a provider is touched, is authoritative from then on,
 * so a write never needs a read or a resourceVersion. Each provider is written at most
 * once per `flushMs`, however many calls it answers. What was recorded in the last
 * `flushMs` before a crash is lost, and so is what a predecessor wrote just before a
 * failover if this process's cache had not yet seen it: this is learning, not money,
 * and a few calls more or less move no decision.
 */
export class ProviderStatsRecorder implements LeaderRunnable {
  readonly name = 'provider-stats';
  readonly #o: ProviderStatsRecorderOptions;
  readonly #policy: StatsPolicy;
  readonly #entries = new Map<string, Entry>();
  #stopped = false;

  constructor(options: ProviderStatsRecorderOptions) {
    this.#o = options;
    this.#policy = options.policy ?? DEFAULT_STATS_POLICY;
  }

  /** A new term of leadership: what another leader wrote meanwhile is in the cache, not in this memory. */
  start(): void {
    this.#stopped = false;
    this.#entries.clear();
  }

  /** Folds one call into the provider's evidence; written within `flushMs`. */
  record(provider: string, taskType: TaskType, sample: Sample): void {
    if (this.#stopped) return;
    const entry = this.#entry(provider);
    if (!entry) {
      this.#o.logger.debug({ provider, taskType }, 'no such AIProvider in the cache; call not recorded');
      return;
    }
    entry.stats.set(taskType, recordSample(entry.stats.get(taskType), sample, this.#o.clock.now(), this.#policy));
    entry.dirty = true;
    this.#schedule(provider, entry, this.#o.flushMs ?? 1_000);
  }

  /** The evidence on a provider for a task type, as the router should see it now. */
  stats(provider: string, taskType: TaskType): TaskStats | undefined {
    return this.#entry(provider)?.stats.get(taskType);
  }

  /** Stops recording and writes what is pending, waiting at most `deadlineMs`. */
  async stop(deadlineMs = 5_000): Promise<void> {
    this.#stopped = true;
    for (const [name, entry] of this.#entries) {
      this.#o.clock.clearTimeout(entry.timer);
      entry.timer = undefined;
      if (entry.dirty && !entry.writing) this.#flush(name, entry);
    }
    const writes = async () => {
      // A write that began before stop may leave its entry dirty again: one more round for those.
      for (let round = 0; round < 2; round++) {
        await Promise.all([...this.#entries.values()].map((e) => e.writing));
        for (const [name, entry] of this.#entries) if (entry.dirty && !entry.writing) this.#flush(name, entry);
      }
    };
    let timer: unknown;
    await Promise.race([writes(), new Promise((resolve) => { timer = this.#o.clock.setTimeout(() => resolve(undefined), deadlineMs); })]);
    this.#o.clock.clearTimeout(timer);
  }

  #entry(provider: string): Entry | undefined {
    const cached = this.#o.cached(provider);
    const known = this.#entries.get(provider);
    if (!cached) {
      // Deleted: its evidence went with it. A write under way finds it gone by itself.
      if (known && !known.writing) this.#forget(provider, known);
      return undefined;
    }
    const uid = cached.metadata.uid ?? '';
    if (known?.uid === uid) return known;
    if (known) this.#forget(provider, known);
    const entry: Entry = { uid, stats: statsByType(cached.status), dirty: false, timer: undefined, writing: undefined, failures: 0 };
    this.#entries.set(provider, entry);
    return entry;
  }

  #forget(provider: string, entry: Entry): void {
    this.#o.clock.clearTimeout(entry.timer);
    if (this.#entries.get(provider) === entry) this.#entries.delete(provider);
  }

  #schedule(provider: string, entry: Entry, delayMs: number): void {
    if (entry.timer !== undefined || entry.writing || this.#stopped) return;
    entry.timer = this.#o.clock.setTimeout(() => {
      entry.timer = undefined;
      this.#flush(provider, entry);
    }, delayMs);
  }

  #flush(provider: string, entry: Entry): void {
    if (!entry.dirty || entry.writing) return;
    entry.dirty = false;
    entry.writing = this.#write(provider, entry).finally(() => {
      entry.writing = undefined;
      if (entry.dirty) this.#schedule(provider, entry, entry.failures > 0 ? backoffDelay(entry.failures - 1, { baseMs: 1_000, maxMs: 60_000, jitter: 0.2 }) : this.#o.flushMs ?? 1_000);
    });
  }

  async #write(provider: string, entry: Entry): Promise<void> {
    const cached = this.#o.cached(provider);
    if (!cached || (cached.metadata.uid ?? '') !== entry.uid) {
      this.#forget(provider, entry);
      return;
    }
    try {
      await applyOwnedStatus(this.#o.client, { apiVersion: API_GROUP_VERSION, kind: 'AIProvider', name: provider }, PROVIDER_STATS,
        cached.status, { ...cached.status, stats: statsList(entry.stats) });
      entry.failures = 0;
    } catch (err) {
      if (isNotFound(err)) {
        this.#forget(provider, entry);
        return;
      }
      entry.failures++;
      entry.dirty = true;
      this.#o.logger.warn({ err, provider }, 'could not write provider stats; retrying');
    }
  }
}
