/**
 * The chart's lifecycle under load: installed (two replicas, run by the pod runner), Startups
 * applied, then `helm upgrade` to a changed value while their pipelines run, which rolls
 * both replicas over one at a time (each a graceful handover of the Lease). Reconciling
 * never stops for longer than the Lease (the longest silence in the operator's writes, from
 * the API server's audit log), no two processes write at once, and nothing is lost: every
 * pipeline completes with every output, every ledger holds. Then `helm uninstall` leaves
 * nothing of the release but what is kept on purpose (docs/helm.md, "Uninstalling"), and
 * what the Startups own goes with them even with no operator left.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_KEY_SECRET } from '../../../src/pipeline/token.ts';
import { longestGap, overlaps } from '../../support/audit.ts';
import { helm, kubectl, localClusterPaths, uniqueName, waitFor, waitForGone } from '../../support/cluster.ts';
import { apply } from '../../support/factory.ts';
import { expectLedgersHeld } from '../../support/ledger-audit.ts';
import { expectPipelinesComplete } from '../../support/pipeline.ts';
import { chartPath } from './render.ts';
import { LEASE_NAME, NODE_PORTS, ReleaseUnderLoad, auditedWrites, operatorPods } from './release.ts';

const local = localClusterPaths();
/** What the chart's defaults give the operator: the Lease it holds lasts this long. */
const LEASE_MS = 15_000;
const names = [uniqueName('up-a'), uniqueName('up-b'), uniqueName('up-c')];
const chart = new ReleaseUnderLoad();
const upgrade = { from: 0, to: 0 };
const figures: Record<string, number | string> = {};

beforeAll(async () => {
  await chart.start({ nodePorts: NODE_PORTS.upgrade, prefix: 'upgrade' });
});

afterAll(async () => {
  console.table(figures);
  await chart.stop();
});

/** Every object in the namespace but Events (records that expire by themselves), as kind/name. */
async function namespacedObjects(namespace: string): Promise<string[]> {
  const kinds = await kubectl(['api-resources', '--namespaced', '--verbs=list', '-o', 'name']);
  const listable = kinds.stdout.split('\n').filter((k) => k && k !== 'events' && k !== 'events.events.k8s.io');
  const res = await kubectl(['get', listable.join(','), '-n', namespace, '-o', 'name']);
  expect(res.code, res.stderr).toBe(0);
  return res.stdout.split('\n').filter(Boolean).sort();
}

describe.runIf(local)('helm upgrade while pipelines run, then helm uninstall', () => {
  it('rolls both replicas over to a changed value while the pipelines run', async () => {
    await apply(names.map((name) => chart.startup(name)));
    await waitFor('the pipelines under way', async () => chart.upstream.requests.length >= 3 && chart.upstream.inFlight() > 0, 120_000, 50);
    const before = await operatorPods(chart.release);
    upgrade.from = Date.now();
    const res = await helm(['upgrade', chart.release.name, chartPath, '--namespace', chart.release.namespace, '--reuse-values', '--set', 'operator.logLevel=warn', '--wait', '--timeout', '180s']);
    expect(res.code, res.stderr).toBe(0);
    // Helm is done once the new replicas are ready; the old ones may still be handing over.
    await waitFor('the old replicas gone', async () => (await operatorPods(chart.release)).every((p) => !before.some((b) => b.metadata.uid === p.metadata.uid)), 90_000);
    figures['upgrade took (ms)'] = Date.now() - upgrade.from;
    const after = await operatorPods(chart.release);
    expect(after).toHaveLength(2);
    const env = await kubectl(['get', 'deployment', chart.release.fullname, '-n', chart.release.namespace, '-o', 'jsonpath={.spec.template.spec.containers[0].env[?(@.name=="LOG_LEVEL")].value}']);
    expect(env.stdout).toBe('warn');
    const led = await chart.lease.until('a new replica to lead', (h) => after.some((p) => p.metadata.name === h), upgrade.from, 60_000);
    // The window the gap is looked for in: from the upgrade to a Lease's length after a new replica leads.
    upgrade.to = led.at + LEASE_MS;
  }, 300_000);

  it('loses nothing: every pipeline completes with every output, and every ledger holds', async () => {
    await expectPipelinesComplete(chart.factory, names, 240_000);
    const billed = await expectLedgersHeld(chart.factory, chart.ledgers, names, chart.limits);
    Object.assign(figures, { 'calls at the provider': chart.upstream.requests.length, 'calls billed': billed });
    expect(billed).toBeGreaterThanOrEqual(chart.upstream.requests.length);
  }, 300_000);

  it('never stops reconciling for longer than the Lease, and never has two writers', async () => {
    const { writes, writers } = await auditedWrites(chart.release);
    expect(overlaps(writes)).toEqual([]);
    // Both old replicas went and the Lease moved on: at least one handover happened in the window.
    expect(new Set(writers.map((w) => w.pod)).size).toBeGreaterThanOrEqual(2);
    // Once the last pipeline is done there is nothing left to write: the window ends then at the
    // latest, and the handover must have come before (else it proves nothing).
    const lastDone = Math.max(...await Promise.all(names.map(async (n) => Date.parse((await chart.factory.get(n)).status!.completedAt!))));
    expect(lastDone, 'the pipelines were over before the new replica led').toBeGreaterThan(upgrade.to - LEASE_MS);
    const gap = longestGap(writes, upgrade.from, Math.min(upgrade.to, lastDone));
    const handovers = chart.lease.holdings.filter((h) => h.at >= upgrade.from && h.at <= upgrade.to);
    const leaderless = handovers.map((h, i) => (h.holder === '' && handovers[i + 1] ? handovers[i + 1]!.at - h.at : 0));
    Object.assign(figures, {
      'longest silence in the writes during the upgrade (ms)': gap.ms,
      'around it': `${gap.after?.what ?? 'the start'} (${gap.after?.pod ?? ''}) .. ${gap.before?.what ?? 'the end'} (${gap.before?.pod ?? ''})`,
      'Lease handovers': handovers.map((h) => h.holder || '(released)').join(' -> '),
      'longest time the Lease was released (ms)': Math.max(0, ...leaderless),
    });
    expect(gap.ms).toBeLessThan(LEASE_MS);
  });

  it('helm uninstall leaves nothing of the release but what is kept on purpose', async () => {
    // What the operator made for itself is owned by the Deployment, for garbage collection to take.
    const owner = await kubectl(['get', 'deployment', chart.release.fullname, '-n', chart.release.namespace, '-o', 'jsonpath={.metadata.uid}']);
    for (const object of [['lease', LEASE_NAME], ['secret', TOKEN_KEY_SECRET]]) {
      const owners = await kubectl(['get', ...object, '-n', chart.release.namespace, '-o', 'jsonpath={.metadata.ownerReferences[*].uid}']);
      expect(owners.stdout, object.join('/')).toBe(owner.stdout);
    }
    const res = await helm(['uninstall', chart.release.name, '--namespace', chart.release.namespace, '--wait', '--timeout', '120s']);
    expect(res.code, res.stderr).toBe(0);
    // Kept on purpose: the namespace's own (Kubernetes makes them in every namespace), the
    // analytics (the factory's history), the ledgers (owned by the Startups, which are the
    // users': a reinstall must find what each has spent today), and the provider key the test made.
    const kept = [
      'configmap/kube-root-ca.crt', 'serviceaccount/default',
      'configmap/startup-factory-analytics', ...names.map((n) => `configmap/ledger-${n}`), `secret/${chart.provider.name}-key`,
    ].sort();
    const left = await waitFor('only what is kept on purpose to remain', async () => {
      const objects = await namespacedObjects(chart.release.namespace);
      return objects.join() === kept.join() && objects;
    }, 90_000).catch(async () => namespacedObjects(chart.release.namespace));
    expect(left).toEqual(kept);
    // Nothing cluster-wide either (the ClusterRole and its binding are the release's only ones).
    const kinds = await kubectl(['api-resources', '--namespaced=false', '--verbs=list', '-o', 'name']);
    const clusterWide = await kubectl(['get', kinds.stdout.split('\n').filter(Boolean).join(','), '-l', `app.kubernetes.io/instance=${chart.release.name}`, '-o', 'name']);
    expect(clusterWide.stdout.trim()).toBe('');
    for (const kind of ['clusterrole', 'clusterrolebinding']) expect((await kubectl(['get', kind, chart.release.fullname, '--ignore-not-found', '-o', 'name'])).stdout).toBe('');
  }, 180_000);

  it('and the Startups, deleted with no operator left, take their namespaces and ledgers with them', async () => {
    expect((await kubectl(['delete', 'startups', ...names, '--wait=false'])).code).toBe(0);
    for (const name of names) {
      await waitForGone(['namespace', `startup-${name}`], `startup-${name} to go`, 120_000);
      await waitForGone(['configmap', `ledger-${name}`, '-n', chart.release.namespace], `ledger-${name} to go`, 60_000);
    }
  }, 240_000);
});
