/**
 * Leader failover through the chart: two operator replicas from it, run by the pod runner,
 * pipelines under way against a provider slow enough that calls are in flight, and the
 * leader killed twice with calls in flight. First its container (SIGKILL; the pod restarts
 * it, so the same pod, the same identity, leads again at once and must charge what its
 * predecessor left open), then its pod (SIGKILL and force-deleted, as when its node is
 * lost: another replica takes over, within 20 s). Every pipeline still completes with each
 * task run once at a time and every output there, no call is billed twice in any version
 * of any ledger, and the API server's audit log shows no two processes ever wrote at once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reservation } from '../../../src/gateway/ledger.ts';
import { overlaps } from '../../support/audit.ts';
import { kubectl, localClusterPaths, uniqueName, waitFor } from '../../support/cluster.ts';
import { apply } from '../../support/factory.ts';
import { expectLedgersHeld } from '../../support/ledger-audit.ts';
import { expectPipelinesComplete } from '../../support/pipeline.ts';
import { NODE_PORTS, ReleaseUnderLoad, auditedWrites, operatorPods, type OperatorPod } from './release.ts';

const local = localClusterPaths();
const names = [uniqueName('fo-a'), uniqueName('fo-b')];
const chart = new ReleaseUnderLoad();
/** What the kills found and what came of them, printed at the end. */
const figures: Record<string, number | string> = {};
/** Each killed process: its pod, its ledger holder, when it was killed. */
const killed: { pod: string; holder: string; at: number }[] = [];

beforeAll(async () => {
  await chart.start({ nodePorts: NODE_PORTS.failover, prefix: 'failover' });
});

afterAll(async () => {
  console.table(figures);
  await chart.stop();
});

/** The reservations open in the ledgers as last written. */
function openReservations(): Reservation[] {
  return names.flatMap((n) => Object.values(chart.ledgers.latest(n)?.open ?? {}));
}

async function leaderPod(): Promise<OperatorPod> {
  const pods = await operatorPods(chart.release);
  return waitFor('a leader', async () => pods.find((p) => p.metadata.name === chart.lease.holder), 30_000);
}

/**
 * SIGKILL, with calls in flight: the leader's process (the runner records each container's
 * pid) once the upstream is answering one of its calls and the ledger holds its reservations.
 */
async function killLeaderMidCall(pod: OperatorPod): Promise<{ holder: string; at: number }> {
  // Only the leader meters: every open reservation is its process's.
  const open = await waitFor('calls in flight through the leader', async () => {
    const all = openReservations();
    return chart.upstream.inFlight() > 0 && all.length > 0 && all;
  }, 120_000, 20);
  const pids = readFileSync(join(local!.pods, `${chart.release.namespace}_${pod.metadata.name}_${pod.metadata.uid}`, 'pids'), 'utf8').trim().split('\n');
  const at = Date.now();
  process.kill(-Number(pids.at(-1)), 'SIGKILL');
  const victim = { pod: pod.metadata.name, holder: open[0]!.holder, at };
  killed.push(victim);
  return victim;
}

describe.runIf(local)('leader failover, two replicas from the chart', () => {
  it('runs two replicas: one leads and meters, the other stands by', async () => {
    const pods = await operatorPods(chart.release);
    expect(pods.map((p) => p.status.phase)).toEqual(['Running', 'Running']);
    const leader = await leaderPod();
    await waitFor('only the leader labelled for the gateway Service', async () => {
      const labels = (await operatorPods(chart.release)).map((p) => [p.metadata.name, p.metadata.labels?.['startupfactory.dev/leader']]);
      return labels.every(([name, label]) => label === (name === leader.metadata.name ? 'true' : 'false'));
    }, 30_000);
  });

  it('a leader whose container is killed leads again from the same pod, and charges at once the calls its predecessor left open', async () => {
    await apply([chart.startup(names[0]!)]);
    const pod = await leaderPod();
    const victim = await killLeaderMidCall(pod);
    await waitFor('the container restarted in its pod', async () => {
      const again = (await operatorPods(chart.release)).find((p) => p.metadata.uid === pod.metadata.uid);
      return (again?.status.containerStatuses?.[0]?.restartCount ?? 0) >= 1;
    }, 30_000);
    // Its reservations are another process's now: charged as soon as the new one loads the
    // ledger, long before their own deadline (2 x the provider's 30 s timeout + 60 s).
    await waitFor('the killed process\'s reservations charged', async () => openReservations().every((r) => r.at > victim.at), 60_000, 50);
    figures['container kill: its calls in flight charged after (ms)'] = Date.now() - victim.at;
    // The same pod meters again, and nobody else led meanwhile.
    await waitFor('the restarted container to meter calls', async () => openReservations().some((r) => r.at > victim.at), 60_000, 50);
    figures['container kill: metering again after (ms)'] = Date.now() - victim.at;
    expect(chart.lease.holdings.filter((h) => h.at >= victim.at)).toEqual([]);
  });

  it('a leader whose pod is lost is succeeded within 20 s, by the standby or the pod that replaces it', async () => {
    await apply([chart.startup(names[1]!)]);
    const pod = await leaderPod();
    const standby = (await operatorPods(chart.release)).find((p) => p.metadata.name !== pod.metadata.name)!;
    const victim = await killLeaderMidCall(pod);
    // As a lost node: the pod goes with its processes, nothing restarts them. Its ReplicaSet
    // makes another at once, which campaigns too: the standby saw the last renewal up to a
    // retry period late, so either may see the Lease expire first.
    const deleted = await kubectl(['delete', 'pod', pod.metadata.name, '-n', chart.release.namespace, '--grace-period=0', '--force']);
    expect(deleted.code, deleted.stderr).toBe(0);
    const took = await chart.lease.until('another replica to lead', (h) => h !== '' && h !== pod.metadata.name, victim.at, 40_000);
    figures['pod loss: a successor leads after (ms)'] = took.at - victim.at;
    figures['pod loss: the successor'] = took.holder === standby.metadata.name ? 'the standby' : 'the replacement pod';
    expect(took.at - victim.at).toBeLessThan(20_000);
    await waitFor('the successor to meter calls', async () => openReservations().some((r) => r.at > victim.at), 60_000, 50);
    figures['pod loss: the successor meters after (ms)'] = Date.now() - victim.at;
  });

  it('completes every pipeline: each task once at a time, every output there', async () => {
    await expectPipelinesComplete(chart.factory, names, 240_000);
  }, 300_000);

  it('bills every call that reached the provider, and none twice, in every version of every ledger', async () => {
    const billed = await expectLedgersHeld(chart.factory, chart.ledgers, names, chart.limits);
    // The killed processes' calls: each reached the provider and is billed, or never left and is charged at its reservation.
    const cut = new Set(names.flatMap((n) => chart.ledgers.history(n).flatMap((s) => Object.entries(s.open).filter(([, r]) => killed.some((k) => k.holder === r.holder)).map(([id]) => id))));
    Object.assign(figures, { 'calls at the provider': chart.upstream.requests.length, 'calls billed': billed, 'reservations of the killed processes': cut.size });
    expect(billed).toBeGreaterThanOrEqual(chart.upstream.requests.length);
    expect(billed).toBeLessThanOrEqual(chart.upstream.requests.length + cut.size);
  }, 120_000);

  it('never had two writers: by the audit log, each process wrote only while it led', async () => {
    const { writes, writers } = await auditedWrites(chart.release);
    expect(overlaps(writes)).toEqual([]);
    // The proof spans both kills: each killed process wrote until it died and its successor only after.
    const [container, pod] = killed;
    const after = (k: { at: number }) => writers.find((s) => s.from > k.at);
    expect(writers.filter((s) => s.pod === container!.pod).length, 'the first leader\'s two processes').toBeGreaterThanOrEqual(2);
    expect(writers.some((s) => s.pod === container!.pod && s.to <= container!.at + 1000)).toBe(true);
    expect(after(container!)?.pod).toBe(container!.pod);
    expect(after(pod!)?.pod).not.toBe(pod!.pod);
    figures['pod loss: the successor\'s first write after (ms)'] = after(pod!)!.from - pod!.at;
  });
});
