import { decideAdmission, type AdmissionDecision, type AdmissionLimits, type Resources } from './admission.ts';
import { allocateNodePorts, type NodePortResult, type PortPool } from './node-ports.ts';

/** What the ledger needs to know about one existing Startup, read from the informer cache. */
export type StartupClaim = {
  name: string;
  uid: string;
  priority: number;
  creationTimestamp: string;
  requests: Resources;
  /** `requests` as the spec writes them, for messages. */
  asks: { cpu: string; memory: string };
  /** What the Startup's status records (the persisted half of the ledger). */
  recorded: { admitted: boolean; nodePorts: Readonly<Record<string, number>> };
  /** Its pipeline is over: it keeps its namespace and capacity but frees its slot. */
  finished: boolean;
};

/** A queued Startup gets no node ports; an admitted one gets them, or `ok: false` when the pool cannot serve it. */
export type Allocation =
  | { admitted: false; admission: AdmissionDecision }
  | { admitted: true; admission: AdmissionDecision; nodePorts: NodePortResult };

type Entry = { uid: string; nodePorts: Record<string, number> };

/**
 * Admission and node-port decisions, made one Startup at a time by the leader.
 *
 * The status of a Startup is written after the decision, and the informer cache sees it
 * later still, so deciding from the cache alone would let two reconciles in that window
 * hand out the same slot or port. The ledger remembers this process's decisions until the
 * cache catches up. `allocate` is synchronous, so JavaScript's run-to-completion makes each
 * decision atomic with respect to every other reconcile: that is the allocation lock.
 *
 * It holds nothing that cannot be rebuilt: after a restart the statuses are the ledger,
 * and an entry disappears as soon as its Startup leaves the cache, so deleting a Startup
 * frees its slot and ports whether or not the operator saw the deletion happen.
 */
export class AllocationLedger {
  readonly #entries = new Map<string, Entry>();

  allocate(
    startups: readonly StartupClaim[],
    target: string,
    nodePortServices: readonly string[],
    limits: AdmissionLimits,
    pool: PortPool,
  ): Allocation {
    this.#forgetGone(startups);
    const admission = decideAdmission(
      startups.map((s) => ({ ...s, admitted: s.recorded.admitted || this.#entries.has(s.name) })),
      limits,
    ).get(target);
    const self = startups.find((s) => s.name === target);
    if (!admission || !self) throw new Error(`startup ${target} is not among the claims`);
    if (!admission.admitted) return { admitted: false, admission };

    const current = this.#entries.get(target)?.nodePorts ?? self.recorded.nodePorts;
    const taken = new Set<number>();
    for (const s of startups) {
      if (s.name === target) continue;
      for (const port of Object.values(this.#entries.get(s.name)?.nodePorts ?? s.recorded.nodePorts)) taken.add(port);
    }
    const nodePorts = allocateNodePorts(nodePortServices, current, taken, pool);
    // An exhausted pool leaves the Startup holding what it had, so it loses no live port.
    this.#entries.set(target, { uid: self.uid, nodePorts: nodePorts.ok ? nodePorts.ports : { ...current } });
    return { admitted: true, admission, nodePorts };
  }

  #forgetGone(startups: readonly StartupClaim[]): void {
    const live = new Map(startups.map((s) => [s.name, s.uid]));
    for (const [name, entry] of this.#entries) if (live.get(name) !== entry.uid) this.#entries.delete(name);
  }
}
