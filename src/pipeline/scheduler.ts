/**
 * Which ready tasks start now, across every startup: the one place where the
 * per-startup, per-provider and global limits meet. Pure and synchronous, so a
 * reconcile computes the plan and records what it starts in one step that no other
 * reconcile can interleave with (JavaScript runs it to completion): two startups'
 * reconciles can never both take the last slot.
 */

export type StartCandidate = {
  startup: string;
  priority: number;
  /** RFC 3339 creation time of the Startup: equal priorities go in creation order. */
  createdAt: string;
  task: string;
  /** Position of the task in its pipeline's dependency order: earlier tasks start first. */
  order: number;
  provider: string;
};

export type Occupancy = {
  perStartup: ReadonlyMap<string, number>;
  perProvider: ReadonlyMap<string, number>;
  total: number;
};

export type SlotLimits = {
  perStartup: number;
  total: number;
  perProvider: (provider: string) => number;
};

export const candidateKey = (startup: string, task: string) => `${startup}/${task}`;

function byPriority(a: StartCandidate, b: StartCandidate): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  if (a.startup !== b.startup) return a.startup < b.startup ? -1 : 1;
  return a.order - b.order;
}

/**
 * The candidates that may start, highest priority first, each taking a slot of its
 * startup, of its provider and of the factory. A candidate that does not fit does not
 * block the ones behind it: a task waiting for a busy provider leaves the others free to
 * use theirs.
 */
export function planStarts(candidates: readonly StartCandidate[], occupancy: Occupancy, limits: SlotLimits): Set<string> {
  const perStartup = new Map(occupancy.perStartup);
  const perProvider = new Map(occupancy.perProvider);
  let total = occupancy.total;
  const granted = new Set<string>();
  for (const c of [...candidates].sort(byPriority)) {
    if (total >= limits.total) break;
    if ((perStartup.get(c.startup) ?? 0) >= limits.perStartup) continue;
    if ((perProvider.get(c.provider) ?? 0) >= limits.perProvider(c.provider)) continue;
    perStartup.set(c.startup, (perStartup.get(c.startup) ?? 0) + 1);
    perProvider.set(c.provider, (perProvider.get(c.provider) ?? 0) + 1);
    total++;
    granted.add(candidateKey(c.startup, c.task));
  }
  return granted;
}
