/**
 * The analytics engine on a real API server: Startups run by the offline provider are
 * counted per industry, category, template and provider in the analytics ConfigMap, once,
 * across a restart and a conflicting write, and their figures outlive them.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, parseAnalytics, type AnalyticsReport, type AnalyticsState, type Dimension, type Granularity } from '../../../src/analytics/model.ts';
import { ANALYTICS_CONFIGMAP, ANALYTICS_KEY, ANALYTICS_LABEL, type AnalyticsConfigMap } from '../../../src/analytics/store.ts';
import type { Startup } from '../../../src/api/index.ts';
import { kubectl, kubeconfigPath, uniqueName, waitFor } from '../../support/cluster.ts';
import { apply, startFactory, type TestFactory } from '../../support/factory.ts';
import { applyProvider, waitForPhase } from '../../support/pipeline.ts';

const CLI = new URL('../../../bin/startup-factory.js', import.meta.url).pathname;

let factory: TestFactory;
const offline = uniqueName('offline');
const fintech = uniqueName('paypilot');
const plain = uniqueName('plain');
let a: Startup;
let b: Startup;

beforeAll(async () => {
  factory = await startFactory([]);
  await applyProvider(factory, { name: offline, type: 'offline' });
  await apply([
    factory.manifest(fintech, {
      displayName: 'PayPilot', industry: 'fintech', category: 'payments', idea: 'Instant cross-border payouts for freelancers.',
      ai: { providers: [offline] },
    }),
    // No industry or category, and one task: counted under (none), and quick.
    factory.manifest(plain, { displayName: 'Plain', idea: 'A plain idea.', ai: { providers: [offline] }, pipeline: { tasks: [{ name: 'market-research', type: 'research' }] } }),
  ]);
  [a, b] = await Promise.all([waitForPhase(factory, fintech, ['Succeeded', 'Failed']), waitForPhase(factory, plain, ['Succeeded', 'Failed'])]);
});

afterAll(async () => {
  await factory?.cleanup();
});

async function stored(): Promise<{ cm: AnalyticsConfigMap | undefined; state: AnalyticsState }> {
  const cm = await factory.client.getOptional<AnalyticsConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', namespace: factory.namespace, name: ANALYTICS_CONFIGMAP });
  return { cm, state: parseAnalytics(cm?.data?.[ANALYTICS_KEY]) };
}

const report = (state: AnalyticsState, by: Dimension, granularity: Granularity = 'hour'): AnalyticsReport =>
  buildReport(state, { by, granularity, since: new Date(Date.now() - 3 * 3_600_000), until: new Date(Date.now() + 3_600_000) });
const counts = (state: AnalyticsState, by: Dimension) => Object.fromEntries(report(state, by).groups.map((g) => [g.key, g.count]));
const uid = (s: Startup) => s.metadata.uid!;
/** What every test expects of the figures, whatever happened to the Startups and the operator since. */
const expected = () => ({
  industry: { fintech: 1, '(none)': 1 },
  category: { payments: 1, '(none)': 1 },
  template: { [factory.template]: 2 },
  provider: { [offline]: a.status!.tasks!.length + b.status!.tasks!.length },
});
const figures = (state: AnalyticsState) => ({ industry: counts(state, 'industry'), category: counts(state, 'category'), template: counts(state, 'template'), provider: counts(state, 'provider') });

const conflicts = async () => (await factory.operator.manager.metrics.apiRequests.get()).values
  .filter((v) => v.labels.verb === 'update' && v.labels.code === '409').reduce((sum, v) => sum + v.value, 0);

describe('analytics', () => {
  it('counts each finished Startup per industry, category and template, and its tasks per provider', async () => {
    expect([a.status?.phase, b.status?.phase]).toEqual(['Succeeded', 'Succeeded']);
    // Both sealed: their completion and every task counted, nothing more to come.
    const { cm, state } = await waitFor('both Startups counted', async () => {
      const s = await stored();
      return s.state.recorded[uid(a)] === true && s.state.recorded[uid(b)] === true && s;
    }, 60_000);
    expect(cm?.metadata.labels?.[ANALYTICS_LABEL]).toBe('true');
    expect(figures(state)).toEqual(expected());

    const done = await factory.get(fintech);
    const industry = report(state, 'industry').groups.find((g) => g.key === 'fintech')!;
    expect(industry).toMatchObject({
      succeeded: 1, failed: 0, successRate: 1,
      meanSeconds: (Date.parse(done.status!.completedAt!) - Date.parse(done.status!.startedAt!)) / 1000,
      totalCostUsd: done.status!.usage!.totalCostUsd, inputTokens: done.status!.usage!.totalInputTokens, outputTokens: done.status!.usage!.totalOutputTokens,
    });
    expect(industry.inputTokens).toBeGreaterThan(0);
    expect(Math.abs(industry.p95Seconds! - industry.meanSeconds!) / industry.meanSeconds!).toBeLessThan(0.1);
    const provider = report(state, 'provider').groups[0]!;
    expect(provider.meanQuality).toBeGreaterThanOrEqual(0.6);
    // Bucket by bucket, the tasks add up to the window's figures.
    const series = report(state, 'provider').series;
    expect(series.reduce((sum, e) => sum + (e.groups.find((g) => g.key === offline)?.count ?? 0), 0)).toBe(provider.count);
    // The operator reports the same figures from its cache.
    await waitFor('the operator\'s cache to hold them', async () => factory.operator.analytics!.report({ by: 'template', granularity: 'day', since: new Date(Date.now() - 86_400_000), until: new Date() }).groups[0]?.count === 2, 10_000);
  });

  it('counts nothing twice across a restart and a conflicting write, and keeps the figures of deleted Startups while forgetting their keys', async () => {
    await factory.stop();
    // Deleted while no operator runs: the next leader's first pass has something to write, with what it loaded.
    await kubectl(['delete', 'startup', plain, '--wait=true']);
    await factory.start();
    const restarted = await waitFor('the new leader to forget the deleted Startup', async () => {
      const s = await stored();
      return s.state.recorded[uid(b)] === undefined && s;
    }, 60_000);
    expect(restarted.state.recorded[uid(a)]).toBe(true);
    expect(figures(restarted.state)).toEqual(expected());

    // Another writer changes the ConfigMap behind the leader's back: its next write conflicts, and it counts again on what is stored.
    const before = await conflicts();
    const annotated = await kubectl(['annotate', 'configmap', ANALYTICS_CONFIGMAP, '-n', factory.namespace, 'test.startupfactory.dev/touched=yes']);
    expect(annotated.code, annotated.stderr).toBe(0);
    await kubectl(['delete', 'startup', fintech, '--wait=true']);
    const after = await waitFor('the leader to forget the second deleted Startup', async () => {
      const s = await stored();
      return Object.keys(s.state.recorded).length === 0 && s;
    }, 60_000);
    expect(await conflicts()).toBeGreaterThan(before);
    expect(figures(after.state)).toEqual(expected());
  });

  it('prints the figures with startup-factory report, as tables and as the dashboard\'s JSON', async () => {
    const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, 'report', '--namespace', factory.namespace, '--kubeconfig', kubeconfigPath(), ...args], { encoding: 'utf8' });
    const tables = cli();
    expect(tables.status, tables.stderr).toBe(0);
    const rows = tables.stdout.split('\n');
    for (const title of ['By industry: startups', 'By category: startups', 'By template: startups', 'By provider: tasks']) expect(rows.some((r) => r.startsWith(title)), title).toBe(true);
    const tasks = expected().provider[offline]!;
    expect(rows).toEqual(expect.arrayContaining([
      expect.stringMatching(/^fintech\s+1\s+100\.0%\s+\d/),
      expect.stringMatching(/^\(none\)\s+1\s+100\.0%/),
      expect.stringMatching(new RegExp(`^${factory.template}\\s+2\\s+100\\.0%`)),
      expect.stringMatching(new RegExp(`^${offline}\\s+${tasks}\\s+100\\.0%\\s+\\S+\\s+\\S+\\s+0\\.000000\\s+\\S+/\\S+\\s+[01]\\.\\d\\d$`)),
    ]));

    const json = cli('--by', 'provider', '--since', '48h', '--output', 'json');
    expect(json.status, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as AnalyticsReport;
    expect(parsed).toMatchObject({ by: 'provider', unit: 'tasks', granularity: 'hour' });
    expect(parsed.series).toHaveLength(48);
    expect(parsed.groups).toEqual(report((await stored()).state, 'provider').groups);

    const bad = cli('--since', '3w');
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
});
