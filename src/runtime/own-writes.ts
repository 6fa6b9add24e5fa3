import type { KubeObject } from '../kube/client.ts';

/**
 * The objects a controller wrote itself, until its cache has caught up with them.
 *
 * A reconcile that runs between a status write and the watch event that carries it (some
 * other event enqueued the key meanwhile) reads the object as it was before the write,
 * decides the same change again, and writes it again, identical but for its transition
 * times: one write more per change, and one more watch event for every watcher. So each
 * write is remembered with the resourceVersions it was made over; while the cache still
 * holds exactly one of those, the written object is the newer. resourceVersions are
 * compared for equality only, as the API asks (they are opaque): once the cache holds any
 * other version, ours or a later one, the cache is the truth again and the entry goes.
 */
export class OwnWrites<T extends KubeObject> {
  readonly #byUid = new Map<string, { over: Set<string>; written: T }>();

  /** `written`, as the API server returned it, was made over `before`. */
  record(before: T, written: T): void {
    const uid = written.metadata.uid ?? before.metadata.uid;
    const version = before.metadata.resourceVersion;
    if (!uid || !version) return;
    const entry = this.#byUid.get(uid) ?? { over: new Set<string>(), written };
    entry.over.add(version);
    entry.written = written;
    this.#byUid.set(uid, entry);
  }

  /** The newest of the cached object and what this controller wrote over it. */
  latest(cached: T): T {
    const uid = cached.metadata.uid ?? '';
    const entry = this.#byUid.get(uid);
    if (!entry) return cached;
    if (cached.metadata.resourceVersion !== undefined && entry.over.has(cached.metadata.resourceVersion)) return entry.written;
    this.#byUid.delete(uid);
    return cached;
  }

  /** Forgets the objects whose uid is not in `live` (deleted before the cache caught up). */
  retain(live: ReadonlySet<string>): void {
    for (const uid of this.#byUid.keys()) if (!live.has(uid)) this.#byUid.delete(uid);
  }
}
