import type { KubeClient, KubeObject, OwnerReference } from '../kube/client.ts';
import { isAlreadyExists, isConflict } from '../kube/errors.ts';
import { microTime } from '../kube/time.ts';
import type { Logger } from '../observability/logger.ts';
import { sleep, systemClock, type Clock } from '../lib/clock.ts';

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

type Lease = KubeObject & { spec?: LeaseSpec };

export interface LeaderElectionOptions {
  client: KubeClient;
  logger: Logger;
  namespace: string;
  name: string;
  identity: string;
  /** Of the Lease, when this process makes it. */
  owner?: OwnerReference | undefined;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock?: Clock;
  onStartedLeading(): void;
  onStoppedLeading?(): void;
  onNewLeader?(identity: string): void;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, after client-go's: a candidate takes
 * the Lease when it is free or has not been renewed for a lease duration (measured on our
 * own clock from when we saw it change, so clock skew between nodes does not matter),
 * writes with the resourceVersion it read (409 = someone else won), and the leader renews
 * every retry period. A leader that cannot renew within the renew deadline stops leading
 * before its lease can expire, so two leaders never overlap.
 */
export class LeaderElector {
  private readonly o: Required<Omit<LeaderElectionOptions, 'onNewLeader' | 'onStoppedLeading' | 'clock' | 'owner'>> & Pick<LeaderElectionOptions, 'onNewLeader' | 'onStoppedLeading' | 'owner'>;
  private readonly clock: Clock;
  private readonly log: Logger;
  /** The Lease as last seen changed: by whom, for how long, and when we saw it (our clock). */
  private observed: { resourceVersion?: string; holder?: string; leaseMs?: number; at: number } = { at: 0 };
  private leading = false;
  private lastLeader: string | undefined;

  constructor(options: LeaderElectionOptions) {
    this.o = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...options };
    if (!(this.o.leaseDurationMs > this.o.renewDeadlineMs && this.o.renewDeadlineMs > this.o.retryPeriodMs)) {
      throw new Error('leader election needs lease duration > renew deadline > retry period');
    }
    this.clock = options.clock ?? systemClock;
    this.log = options.logger.child({ lease: `${options.namespace}/${options.name}`, identity: options.identity });
  }

  isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until leading, leads until `signal` aborts (then releases the Lease so a
   * successor takes over at once) or until renewal fails. Resolves when no longer leading:
   * `lost` tells the two apart.
   */
  async run(signal: AbortSignal): Promise<{ lost: boolean }> {
    let acquired = false;
    while (!signal.aborted && !(acquired = await this.attempt())) {
      await sleep(this.clock, this.untilNextAttempt(), signal);
    }
    if (signal.aborted) {
      // Stopped while campaigning; if the last attempt won, hand the Lease straight back.
      if (acquired) await this.release();
      return { lost: false };
    }
    this.leading = true;
    this.log.info('started leading');
    this.o.onStartedLeading();
    let lastRenew = this.clock.now();
    let lost = false;
    while (!signal.aborted) {
      await sleep(this.clock, this.o.retryPeriodMs, signal);
      if (signal.aborted) break;
      const remaining = this.o.renewDeadlineMs - (this.clock.now() - lastRenew);
      const renewed = remaining > 0 && (await this.withDeadline(this.attempt(), remaining));
      if (renewed) {
        lastRenew = this.clock.now();
      } else if (this.clock.now() - lastRenew >= this.o.renewDeadlineMs) {
        lost = true;
        break;
      }
    }
    this.leading = false;
    if (lost) this.log.error('lost the lease: could not renew within the renew deadline');
    else await this.release();
    this.o.onStoppedLeading?.();
    return { lost };
  }

  /** One acquire-or-renew step; true when we hold the Lease afterwards. */
  private async attempt(): Promise<boolean> {
    const { client, namespace, name, identity } = this.o;
    const now = this.clock.now();
    try {
      const lease = await client.getOptional<Lease>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace, name });
      if (!lease) {
        await client.create<Lease>({
          apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace, ...(this.o.owner ? { ownerReferences: [this.o.owner] } : {}) },
          spec: this.spec(undefined, now),
        });
        this.observe(identity, undefined, now, this.o.leaseDurationMs);
        return true;
      }
      const holder = lease.spec?.holderIdentity || undefined;
      const leaseMs = (lease.spec?.leaseDurationSeconds ?? 15) * 1000;
      if (lease.metadata.resourceVersion !== this.observed.resourceVersion) this.observe(holder, lease.metadata.resourceVersion, now, leaseMs);
      if (holder && holder !== identity && this.observed.at + leaseMs > now) return false;
      const updated = await client.replace<Lease>({ ...lease, spec: this.spec(lease.spec, now) });
      this.observe(identity, updated.metadata.resourceVersion, now, this.o.leaseDurationMs);
      return true;
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err)) return false;
      this.log.warn({ err }, 'leader election request failed');
      return false;
    }
  }

  private spec(current: LeaseSpec | undefined, now: number): LeaseSpec {
    const mine = current?.holderIdentity === this.o.identity;
    return {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      acquireTime: mine && current?.acquireTime ? current.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (current?.leaseTransitions ?? 0) + (current && !mine ? 1 : 0),
    };
  }

  /**
   * A retry period (jittered, so candidates spread out), but no later than the moment the
   * Lease another holds expires unrenewed: the successor of a leader that died takes over
   * at the expiry, not up to a retry period after it. (Once expired, a failed attempt waits
   * the retry period like any other.)
   */
  private untilNextAttempt(): number {
    const retry = this.o.retryPeriodMs * (1 + Math.random() * 0.2);
    const { holder, leaseMs, at } = this.observed;
    if (!holder || holder === this.o.identity || leaseMs === undefined) return retry;
    const untilExpiry = at + leaseMs - this.clock.now();
    return untilExpiry > 0 ? Math.min(retry, untilExpiry) : retry;
  }

  private observe(holder: string | undefined, resourceVersion: string | undefined, now: number, leaseMs: number): void {
    this.observed = { holder, resourceVersion, leaseMs, at: now };
    if (holder && holder !== this.lastLeader) {
      this.lastLeader = holder;
      this.o.onNewLeader?.(holder);
    }
  }

  /** Clears the holder (if still ours) so the next candidate need not wait out the lease. */
  private async release(): Promise<void> {
    const { client, namespace, name, identity } = this.o;
    try {
      const lease = await client.getOptional<Lease>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace, name });
      if (!lease || lease.spec?.holderIdentity !== identity) return;
      const now = microTime(this.clock.now());
      await client.replace<Lease>({ ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now } });
      this.log.info('released the lease');
    } catch (err) {
      this.log.warn({ err }, 'could not release the lease; a successor waits for it to expire');
    }
  }

  private withDeadline(p: Promise<boolean>, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => resolve(false), ms);
      void p.then((v) => { this.clock.clearTimeout(timer); resolve(v); });
    });
  }
}
