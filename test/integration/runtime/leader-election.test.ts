import { describe, expect, it } from 'vitest';
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeConfig, uniqueName } from '../../support/cluster.ts';
import { LeaderElector } from '../../../src/runtime/leader-election.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { ApiProxy } from '../../support/api-proxy.ts';
import { eventually, logger, namespaceFixture, newClient } from './helpers.ts';

const { client, ns } = namespaceFixture('rt-lease');

type Lease = KubeObject & { spec: { holderIdentity?: string; leaseDurationSeconds?: number; leaseTransitions?: number } };

type Timings = { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };

function candidate(identity: string, lease: string, kc?: KubeConfig, timings?: Timings) {
  const state = { leading: false, started: 0, stopped: 0 };
  const stop = new AbortController();
  const elector = new LeaderElector({
    // Each candidate has its own client, as separate replicas would.
    client: newClient(kc).client, logger, namespace: ns.name, name: lease, identity, ...timings,
    onStartedLeading: () => { state.leading = true; state.started = Date.now(); },
    onStoppedLeading: () => { state.leading = false; state.stopped = Date.now(); },
  });
  const done = elector.run(stop.signal);
  return { state, stop: () => { stop.abort(); return done; }, done };
}

describe('LeaderElector on a real Lease', () => {
  it('with the default 15 s / 10 s / 2 s, lets exactly one candidate lead; on release the other takes over within a few seconds', async () => {
    const lease = uniqueName('lease');
    const a = candidate('replica-a', lease);
    const b = candidate('replica-b', lease);
    await eventually(() => a.state.leading || b.state.leading, 10_000, 'a leader');
    // Throughout several retry periods there is exactly one leader, never two and never none.
    for (const until = Date.now() + 5000; Date.now() < until;) {
      expect([a.state.leading, b.state.leading].filter(Boolean)).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 50));
    }
    const [leader, follower] = a.state.leading ? [a, b] : [b, a];
    const leaderId = a.state.leading ? 'replica-a' : 'replica-b';
    const followerId = a.state.leading ? 'replica-b' : 'replica-a';
    const held = await client.get<Lease>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: ns.name, name: lease });
    expect(held.spec.holderIdentity).toBe(leaderId);
    expect(held.spec.leaseDurationSeconds).toBe(15);

    expect(await leader.stop()).toEqual({ lost: false });
    const releasedAt = Date.now();
    expect(leader.state.leading).toBe(false);
    await eventually(() => follower.state.leading, 5000, 'the follower to take over');
    // Well under the 15 s lease duration: the release, not expiry, handed it over.
    expect(follower.state.started - releasedAt).toBeLessThan(5000);
    const taken = await client.get<Lease>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: ns.name, name: lease });
    expect(taken.spec.holderIdentity).toBe(followerId);
    expect(taken.spec.leaseTransitions).toBeGreaterThanOrEqual(1);
    await follower.stop();
    const released = await client.get<Lease>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: ns.name, name: lease });
    expect(released.spec.holderIdentity ?? '').toBe('');
  });

  it('does not take a Lease another holder keeps renewing, for many lease durations', async () => {
    // A 3 s Lease renewed every 250 ms, watched for well over three lease durations: a
    // challenger that measured expiry from when it first saw the Lease, not from its last
    // renewal, would take it within the first 3 s.
    const timings = { leaseDurationMs: 3000, renewDeadlineMs: 2500, retryPeriodMs: 250 };
    const lease = uniqueName('lease');
    const ref = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: ns.name, name: lease };
    const a = candidate('holder', lease, undefined, timings);
    await eventually(() => a.state.leading, 10_000, 'the first holder');
    const b = candidate('challenger', lease, undefined, timings);
    const renewals = new Set<string>();
    const watchedMs = 4 * timings.leaseDurationMs;
    const until = Date.now() + watchedMs;
    while (Date.now() < until) {
      expect(b.state.leading, 'the challenger took a renewed Lease').toBe(false);
      expect(a.state.leading, 'the holder lost its Lease').toBe(true);
      const held = await client.get<Lease>(ref);
      expect(held.spec.holderIdentity).toBe('holder');
      renewals.add(held.metadata.resourceVersion!);
      await new Promise((r) => setTimeout(r, 100));
    }
    // The premise: the holder did keep renewing all along (a renewal roughly every 250 ms).
    expect(renewals.size).toBeGreaterThan(watchedMs / timings.leaseDurationMs * 2);
    await b.stop();
    await a.stop();
  });

  it('takes a Lease its holder stopped renewing at its expiry, not a retry period after it', async () => {
    // A holder that died: its Lease is never renewed again. The challenger's retries come
    // every 8 s (up to 9.6 s with jitter), and the Lease expires 10 s after the challenger
    // first saw it: waiting for the next retry would take it at 16 s at the earliest. The
    // margin between is wide because a loaded CI machine delays each request by seconds.
    const timings = { leaseDurationMs: 10_000, renewDeadlineMs: 9000, retryPeriodMs: 8000 };
    const lease = uniqueName('lease');
    await client.create<Lease>({
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: lease, namespace: ns.name },
      spec: { holderIdentity: 'dead-leader', leaseDurationSeconds: 10 },
    });
    const started = Date.now();
    const b = candidate('successor', lease, undefined, timings);
    await eventually(() => b.state.leading, 20_000, 'the successor to take over');
    const tookMs = b.state.started - started;
    expect(tookMs, 'it took the Lease before it had expired').toBeGreaterThanOrEqual(10_000);
    expect(tookMs, 'it waited for a retry after the expiry').toBeLessThan(15_000);
    await b.stop();
  });

  it('a partitioned leader steps down before its Lease expires, and only then does another take over', async () => {
    const lease = uniqueName('lease');
    const timings = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };
    const proxy = new ApiProxy();
    const kc = await proxy.start(new URL(kubeConfig().getCurrentCluster()!.server));
    const a = candidate('partitioned', lease, kc, timings);
    await eventually(() => a.state.leading, 10_000, 'the first leader');
    const b = candidate('survivor', lease, undefined, timings);
    await new Promise((r) => setTimeout(r, 1000));
    expect(b.state.leading).toBe(false);

    proxy.partition();
    expect(await a.done).toEqual({ lost: true });
    await eventually(() => b.state.leading, 10_000, 'the survivor to take over after expiry');
    // Never two leaders: the old one had stopped before the new one started.
    expect(a.state.stopped).toBeLessThan(b.state.started);
    await b.stop();
    await proxy.stop();
  });
});
