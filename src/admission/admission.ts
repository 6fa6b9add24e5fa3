import { formatBytes, formatMillis } from '../provisioning/quantity.ts';

/**
 * Which Startups may hold a namespace and quota right now.
 *
 * A Startup that has been admitted stays admitted until it is deleted: its namespace,
 * quota and node ports exist for as long as it does, so its resources count against the
 * capacity until then. The slots (`maxActive`) bound the startups being built: one whose
 * pipeline has finished frees its slot (a suspended one keeps it, to resume). Already-
 * admitted Startups are never evicted, even when the limits shrink below what they hold.
 *
 * The queue is strict: Startups wait in order (priority descending, then creation time,
 * then name) and one that does not fit blocks those behind it, so a large Startup is not
 * starved by a stream of small ones. A Startup larger than the whole capacity could never
 * be admitted, so waiting is not what it needs: it is refused on its own
 * (`ExceedsCapacity`, which the controller reports as Stalled), holds no slot and does not
 * block the queue, and is judged again like any other when its spec or the capacity changes.
 */
export type Resources = { cpuMillis: number; memoryBytes: number };

export type AdmissionCandidate = {
  name: string;
  priority: number;
  /** RFC 3339; compared as strings, which orders correctly for the API server's UTC format. */
  creationTimestamp: string;
  requests: Resources;
  /** The quantities as the spec writes them, for messages: `1e400` says more than the number it parses to. */
  asks: { cpu: string; memory: string };
  /** Admitted by an earlier decision (recorded in status or in the in-process ledger). */
  admitted: boolean;
  /** Its pipeline is over (succeeded or failed): it holds capacity but no slot. */
  finished: boolean;
};

export type AdmissionLimits = { maxActive: number; capacity: Resources };

/**
 * `ActiveLimitReached` and `CapacityExceeded` wait their turn: room is made as others finish
 * or go. `ExceedsCapacity` is more than the whole factory holds, so no turn ever comes.
 */
export type AdmissionReason = 'Admitted' | 'ActiveLimitReached' | 'CapacityExceeded' | 'ExceedsCapacity';

export type AdmissionDecision = {
  admitted: boolean;
  reason: AdmissionReason;
  message: string;
};

export function queueOrder(a: AdmissionCandidate, b: AdmissionCandidate): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.creationTimestamp !== b.creationTimestamp) return a.creationTimestamp < b.creationTimestamp ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function decideAdmission(candidates: readonly AdmissionCandidate[], limits: AdmissionLimits): Map<string, AdmissionDecision> {
  const decisions = new Map<string, AdmissionDecision>();
  let active = 0;
  const used: Resources = { cpuMillis: 0, memoryBytes: 0 };
  const take = (c: AdmissionCandidate) => {
    if (!c.finished) active++;
    used.cpuMillis += c.requests.cpuMillis;
    used.memoryBytes += c.requests.memoryBytes;
  };

  for (const c of candidates) {
    if (!c.admitted) continue;
    take(c);
    decisions.set(c.name, { admitted: true, reason: 'Admitted', message: 'admitted' });
  }

  // Everything behind the first Startup that does not fit waits for the same reason.
  let blocked: AdmissionDecision | undefined;
  for (const c of candidates.filter((c) => !c.admitted).sort(queueOrder)) {
    const beyond = beyondCapacity(c, limits.capacity);
    if (beyond) {
      decisions.set(c.name, { admitted: false, reason: 'ExceedsCapacity', message: beyond });
      continue;
    }
    blocked ??= blockedBy(c, active, used, limits);
    if (!blocked) {
      take(c);
      decisions.set(c.name, { admitted: true, reason: 'Admitted', message: 'admitted' });
      continue;
    }
    decisions.set(c.name, blocked);
  }
  return decisions;
}

function blockedBy(c: AdmissionCandidate, active: number, used: Resources, limits: AdmissionLimits): AdmissionDecision | undefined {
  if (active >= limits.maxActive) {
    return { admitted: false, reason: 'ActiveLimitReached', message: `${active} of ${limits.maxActive} startups being built` };
  }
  if (!fits(c.requests, used, limits.capacity)) {
    return {
      admitted: false,
      reason: 'CapacityExceeded',
      message: `needs ${describe(c.requests)} but ${describe(free(used, limits.capacity))} of ${describe(limits.capacity)} is free`,
    };
  }
  return undefined;
}

/**
 * Why a Startup can never be admitted, naming each resource it asks more of than the whole
 * capacity holds, or undefined when it could fit an empty factory. An amount too large to
 * count (`1e400` parses to Infinity) fits nothing, not even a capacity the cluster leaves
 * unbounded: no quota could be written for it.
 */
function beyondCapacity(c: AdmissionCandidate, capacity: Resources): string | undefined {
  const over = [
    { resource: 'cpu', asked: c.requests.cpuMillis, asks: c.asks.cpu, capacity: capacity.cpuMillis, format: formatMillis },
    { resource: 'memory', asked: c.requests.memoryBytes, asks: c.asks.memory, capacity: capacity.memoryBytes, format: formatBytes },
  ].filter((r) => !Number.isFinite(r.asked) || r.asked > r.capacity);
  if (over.length === 0) return undefined;
  return over.map((r) => Number.isFinite(r.capacity)
    ? `asks ${r.resource} ${r.asks}, more than the factory's whole capacity of ${r.format(r.capacity)}`
    : `asks ${r.resource} ${r.asks}, more than any capacity can hold (the factory's is unbounded, but this is no finite amount)`).join('; ');
}

function fits(request: Resources, used: Resources, capacity: Resources): boolean {
  return used.cpuMillis + request.cpuMillis <= capacity.cpuMillis && used.memoryBytes + request.memoryBytes <= capacity.memoryBytes;
}

function free(used: Resources, capacity: Resources): Resources {
  return {
    cpuMillis: Math.max(0, capacity.cpuMillis - used.cpuMillis),
    memoryBytes: Math.max(0, capacity.memoryBytes - used.memoryBytes),
  };
}

function describe(r: Resources): string {
  return `cpu ${r.cpuMillis}m, memory ${Math.floor(r.memoryBytes / 2 ** 20)}Mi`;
}
