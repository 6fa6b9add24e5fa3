import { describe, expect, it } from 'vitest';
import { dashboardExpressions, loadDashboard, operatorMetricNames, type Panel } from '../support/monitoring.ts';

// The names are checked against a running operator's /metrics by test/integration/chart/monitoring.test.ts.
const dashboard = loadDashboard();
const queried = dashboard.panels.filter((p) => p.type !== 'row');
const byTitle = (title: string): Panel => {
  const found = queried.filter((p) => p.title === title);
  expect(found, title).toHaveLength(1);
  return found[0]!;
};

describe('the Grafana dashboard', () => {
  it('is a current dashboard with a Prometheus data source variable every query uses', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.uid).toBe('startup-factory');
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const panel of queried) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets!) expect(target.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });

  it('has a panel for each area of the operator', () => {
    const areas: Record<string, string[]> = {
      'Reconcile rate': ['startup_factory_reconcile_total'],
      'Reconcile latency': ['startup_factory_reconcile_duration_seconds'],
      'Work queue depth': ['startup_factory_workqueue_depth'],
      'Watch health': ['startup_factory_informer_healthy'],
      'Startups by phase': ['startup_factory_startups'],
      'Task duration': ['startup_factory_task_duration_seconds'],
      'Task failure rate': ['startup_factory_task_duration_seconds'],
      'AI calls': ['startup_factory_ai_calls_total'],
      Tokens: ['startup_factory_ai_tokens_total'],
      'Cost per hour': ['startup_factory_ai_cost_usd_total'],
      'Cache hit rate': ['startup_factory_ai_cache_lookups_total'],
      'Budget refusals': ['startup_factory_budget_refusals_total'],
      'Gateway latency': ['startup_factory_gateway_request_duration_seconds'],
    };
    for (const [title, metrics] of Object.entries(areas)) {
      const names = byTitle(title).targets!.flatMap((t) => operatorMetricNames(t.expr));
      expect(names, title).toEqual(expect.arrayContaining(metrics));
    }
  });

  it('sets the unit of durations, money and ratios', () => {
    for (const title of ['Reconcile latency', 'Task duration', 'Gateway latency']) expect(byTitle(title).fieldConfig?.defaults.unit, title).toBe('s');
    for (const title of ['Cost per hour', 'AI cost in range']) expect(byTitle(title).fieldConfig?.defaults.unit, title).toBe('currencyUSD');
    for (const title of ['Cache hit rate', 'Task failure rate']) expect(byTitle(title).fieldConfig?.defaults.unit, title).toBe('percentunit');
  });

  it('takes rates over Grafana\'s own windows and quantiles over histogram buckets by le', () => {
    const exprs = dashboardExpressions(dashboard);
    for (const expr of exprs) {
      for (const [, window] of expr.matchAll(/\b(?:rate|increase)\([^[]*\[([^\]]+)\]/g)) expect(['$__rate_interval', '$__range'], expr).toContain(window);
      if (expr.includes('histogram_quantile')) expect(expr, expr).toMatch(/sum by \(le\b[^)]*\) \(rate\(startup_factory_[a-z_]+_bucket\{/);
      for (const name of operatorMetricNames(expr)) expect(name, expr).not.toMatch(/_(bucket|sum|count)$/);
    }
    expect(exprs.filter((e) => e.includes('histogram_quantile')).length).toBeGreaterThan(0);
  });

  it('lays its panels out on the 24-column grid without overlaps, each with its own id', () => {
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    const cells = new Set<string>();
    for (const { title, gridPos: { x, y, w, h } } of dashboard.panels) {
      expect(x + w, title).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`), `${title} overlaps at ${i},${j}`).toBe(false);
          cells.add(`${i},${j}`);
        }
      }
    }
  });
});
