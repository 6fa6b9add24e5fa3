/**
 * The chart's monitoring objects: off by default; with their flags, a dashboard ConfigMap
 * for Grafana's sidecar, a ServiceMonitor on the metrics Service and a PrometheusRule whose
 * every query, like the dashboard's, names a metric a running operator serves on /metrics.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helm, uniqueName, waitFor } from '../../support/cluster.ts';
import { startFactory, type TestFactory } from '../../support/factory.ts';
import {
  type RuleGroup, SEVERITIES, dashboardExpressions, exposedFamilies, loadDashboard, operatorMetricNames, ruleGroupProblems,
} from '../../support/monitoring.ts';
import { type Manifest, chartPath, helmTemplate, kubeconform, parseManifests, schemaDirFor, scratchDir, serverVersion } from './render.ts';

type ConfigMap = Manifest & { metadata: { labels: Record<string, string> }; data: Record<string, string> };
type Service = Manifest & { metadata: { labels: Record<string, string> }; spec: { ports: { name: string }[] } };
type ServiceMonitor = Manifest & {
  spec: { selector: { matchLabels: Record<string, string> }; namespaceSelector: { matchNames: string[] }; endpoints: { port: string; path: string }[] };
};
type Rule = { alert: string; expr: string; for: string; labels: { severity: string } };
type PrometheusRule = Manifest & { spec: { groups: (RuleGroup & { rules: Rule[] })[] } };

const namespace = uniqueName('sf-mon');
const release = uniqueName('sf');
const flags = ['grafana.dashboards.enabled', 'metrics.serviceMonitor.enabled', 'metrics.prometheusRule.enabled'].flatMap((f) => ['--set', `${f}=true`]);
let manifests: Manifest[];

const only = <T extends Manifest>(kind: string, from = manifests): T => {
  const found = from.filter((m) => m.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as T;
};
const rules = () => only<PrometheusRule>('PrometheusRule').spec.groups.flatMap((g) => g.rules);

beforeAll(async () => {
  const res = await helmTemplate(release, namespace, flags);
  expect(res.code, res.stderr).toBe(0);
  manifests = parseManifests(res.stdout);
});

describe('monitoring objects', () => {
  it('are all off by default', async () => {
    const res = await helmTemplate(release, namespace);
    expect(res.code, res.stderr).toBe(0);
    const kinds = parseManifests(res.stdout).map((m) => m.kind);
    for (const kind of ['ConfigMap', 'ServiceMonitor', 'PrometheusRule']) expect(kinds).not.toContain(kind);
  });

  it('ship the dashboard verbatim in a ConfigMap the sidecar finds by its label, which can be changed', async () => {
    const configMap = only<ConfigMap>('ConfigMap');
    expect(configMap.metadata.labels.grafana_dashboard).toBe('1');
    expect(configMap.metadata.namespace).toBe(namespace);
    expect(Object.keys(configMap.data)).toEqual(['startup-factory.json']);
    expect(JSON.parse(configMap.data['startup-factory.json']!)).toEqual(loadDashboard());
    const result = await kubeconform(JSON.stringify(configMap), await schemaDirFor([configMap]));
    expect(result.code, result.output).toBe(0);
    expect(result.summary.valid).toBe(1);

    const custom = await helmTemplate(release, namespace, [...flags, '--set', 'grafana.dashboards.label=example.com/dashboard',
      '--set', 'grafana.dashboards.labelValue=yes', '--set', 'grafana.dashboards.namespace=monitoring', '--set', 'grafana.dashboards.annotations.grafana_folder=Factory']);
    expect(custom.code, custom.stderr).toBe(0);
    const moved = only<ConfigMap>('ConfigMap', parseManifests(custom.stdout));
    expect(moved.metadata.labels['example.com/dashboard']).toBe('yes');
    expect(moved.metadata.labels.grafana_dashboard).toBeUndefined();
    expect(moved.metadata.namespace).toBe('monitoring');
    expect(moved.metadata.annotations).toEqual({ grafana_folder: 'Factory' });
    const bad = await helmTemplate(release, namespace, [...flags, '--set', 'grafana.dashboards.label=not a label']);
    expect(bad.code).not.toBe(0);
  });

  it('carry the dashboard in the packaged chart too', async () => {
    const dir = await scratchDir('sf-chart-');
    const packaged = await helm(['package', chartPath, '--destination', dir]);
    expect(packaged.code, packaged.stderr).toBe(0);
    const archive = join(dir, (await readdir(dir))[0]!);
    const res = await helm(['template', release, archive, '--namespace', namespace, '--kube-version', await serverVersion(), ...flags]);
    expect(res.code, res.stderr).toBe(0);
    expect(only<ConfigMap>('ConfigMap', parseManifests(res.stdout))).toEqual(only<ConfigMap>('ConfigMap'));
  });

  it('scrape the metrics port of the main Service only, in the release namespace', () => {
    const monitor = only<ServiceMonitor>('ServiceMonitor');
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor.spec.namespaceSelector.matchNames).toEqual([namespace]);
    expect(monitor.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }]);
    const selected = (manifests.filter((m) => m.kind === 'Service') as Service[])
      .filter((s) => Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels[k] === v));
    const scraped = selected.filter((s) => s.spec.ports.some((p) => p.name === 'metrics'));
    expect(scraped.map((s) => s.metadata.name)).toEqual([only('Deployment').metadata.name]);
  });

  it('alert on the operator being down, reconcile errors, unhealthy watches, spent budgets and failing tasks, in well-formed groups', () => {
    const rule = only<PrometheusRule>('PrometheusRule');
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(ruleGroupProblems(rule.spec.groups)).toEqual([]);
    expect(rules().map((r) => r.alert)).toEqual([
      'StartupFactoryOperatorDown', 'StartupFactoryReconcileErrors', 'StartupFactoryWatchUnhealthy',
      'StartupFactoryBudgetsExhausted', 'StartupFactoryPipelineFailureRate',
    ]);
    for (const r of rules()) {
      expect(SEVERITIES, r.alert).toContain(r.labels.severity);
      // Each alert is about this release's operator, not another factory's.
      expect(r.expr, r.alert).toContain(`namespace="${namespace}"`);
    }
    const down = rules().find((r) => r.alert === 'StartupFactoryOperatorDown')!;
    expect(down.expr).toContain(`job="${only('Deployment').metadata.name}"`);
    expect(down.labels.severity).toBe('critical');
  });

  it('take their thresholds from values', async () => {
    const res = await helmTemplate(release, namespace, [...flags, '--set', 'metrics.prometheusRule.taskFailureRatio=0.5', '--set', 'metrics.prometheusRule.reconcileErrorRatio=0.02']);
    expect(res.code, res.stderr).toBe(0);
    const exprs = Object.fromEntries(only<PrometheusRule>('PrometheusRule', parseManifests(res.stdout)).spec.groups.flatMap((g) => g.rules).map((r) => [r.alert, r.expr]));
    expect(exprs.StartupFactoryPipelineFailureRate).toMatch(/> 0\.5$/);
    expect(exprs.StartupFactoryReconcileErrors).toMatch(/> 0\.02$/);
    const bad = await helmTemplate(release, namespace, [...flags, '--set', 'metrics.prometheusRule.taskFailureRatio=2']);
    expect(bad.code).not.toBe(0);
  });
});

describe('against a running operator', () => {
  let factory: TestFactory;
  let families: Set<string>;

  beforeAll(async () => {
    factory = await startFactory(['--leader-elect=false']);
    const url = () => `http://127.0.0.1:${factory.operator.manager.http.address()!.port}/metrics`;
    // Once every watch has synced, each reports itself healthy.
    const exposition = await waitFor('every informer healthy on /metrics', async () => {
      const text = await (await fetch(url())).text();
      const health = [...text.matchAll(/^startup_factory_informer_healthy\{[^}]*\} (\d)$/gm)].map((m) => m[1]);
      return health.length > 0 && health.every((v) => v === '1') && text;
    }, 60_000);
    families = exposedFamilies(exposition);
  });

  afterAll(async () => { await factory?.cleanup(); });

  it('serves every metric the dashboard queries', () => {
    const names = new Set(dashboardExpressions(loadDashboard()).flatMap(operatorMetricNames));
    expect(names.size).toBeGreaterThan(10);
    expect([...names].filter((n) => !families.has(n))).toEqual([]);
  });

  it('serves every metric the alerts read', () => {
    const names = new Set(rules().flatMap((r) => operatorMetricNames(r.expr)));
    expect(names.size).toBeGreaterThanOrEqual(4);
    expect([...names].filter((n) => !families.has(n))).toEqual([]);
  });
});
