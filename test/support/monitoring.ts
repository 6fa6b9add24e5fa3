/**
 * Checks of the chart's monitoring objects: which operator metrics a PromQL expression
 * names, and the shape of a PrometheusRule's groups where promtool is not at hand (it does
 * not build here in reasonable time: Prometheus pulls in every service discovery's SDK).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const dashboardPath = join(import.meta.dirname, '..', '..', 'charts', 'startup-factory', 'dashboards', 'startup-factory.json');

export type Target = { expr: string; datasource?: { type: string; uid: string } };
export type Panel = {
  type: string;
  id: number;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  fieldConfig?: { defaults: { unit?: string } };
  targets?: Target[];
};
export type Dashboard = {
  schemaVersion: number;
  uid: string;
  templating: { list: { name: string; type: string; query: unknown; definition?: string }[] };
  panels: Panel[];
};

export function loadDashboard(path = dashboardPath): Dashboard {
  return JSON.parse(readFileSync(path, 'utf8')) as Dashboard;
}

/** Every PromQL expression of the dashboard: its panels' queries and its query variables'. */
export function dashboardExpressions(dashboard: Dashboard): string[] {
  const panels = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
  const variables = dashboard.templating.list.filter((v) => v.type === 'query').map((v) => v.definition ?? '');
  return [...panels, ...variables];
}

/**
 * The operator's metric families an expression reads. Histograms are exposed as one family
 * (`# TYPE x histogram`) but queried through their `_bucket`, `_sum` and `_count` series.
 */
export function operatorMetricNames(expr: string): string[] {
  return [...expr.matchAll(/\bstartup_factory_[a-z0-9_]+/g)].map(([name]) => name.replace(/_(bucket|sum|count)$/, ''));
}

/** The metric families a Prometheus text exposition declares. */
export function exposedFamilies(exposition: string): Set<string> {
  return new Set([...exposition.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]!));
}

export type RuleGroup = { name?: unknown; rules?: unknown };
type Rule = { alert?: unknown; record?: unknown; expr?: unknown; for?: unknown; labels?: Record<string, unknown>; annotations?: Record<string, unknown> };

export const SEVERITIES = ['critical', 'warning', 'info'];
/** Prometheus's model.ParseDuration: units largest first, each at most once. */
const DURATION = /^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * What `promtool check rules` would refuse in rule groups, as far as can be told without a
 * PromQL parser: names, exactly one of alert or record, an expression whose brackets and
 * quotes balance, a duration for `for`, and (our convention) a known severity, a summary and
 * a description on every alert, with templates that open and close.
 */
export function ruleGroupProblems(groups: RuleGroup[]): string[] {
  const problems: string[] = [];
  if (!Array.isArray(groups) || groups.length === 0) return ['no rule groups'];
  const groupNames = new Set<string>();
  for (const [g, group] of groups.entries()) {
    const where = `group ${g}`;
    if (typeof group.name !== 'string' || group.name === '') problems.push(`${where}: no name`);
    else if (groupNames.has(group.name)) problems.push(`${where}: duplicate name ${group.name}`);
    else groupNames.add(group.name);
    if (!Array.isArray(group.rules) || group.rules.length === 0) {
      problems.push(`${where}: no rules`);
      continue;
    }
    for (const [r, rule] of (group.rules as Rule[]).entries()) {
      const name = rule.alert ?? rule.record;
      const at = `${where} rule ${r} (${String(name)})`;
      if ((rule.alert === undefined) === (rule.record === undefined)) problems.push(`${at}: needs exactly one of alert and record`);
      if (typeof name !== 'string' || name === '' || (rule.record !== undefined && !METRIC_NAME.test(name))) problems.push(`${at}: bad name`);
      if (typeof rule.expr !== 'string' || rule.expr.trim() === '') problems.push(`${at}: empty expr`);
      else {
        const unbalanced = balanceProblem(rule.expr);
        if (unbalanced) problems.push(`${at}: expr ${unbalanced}`);
      }
      if (rule.record !== undefined) {
        if (rule.for !== undefined || rule.annotations !== undefined) problems.push(`${at}: a recording rule takes no for or annotations`);
        continue;
      }
      if (typeof rule.for !== 'string' || rule.for === '' || !DURATION.test(rule.for)) problems.push(`${at}: for is not a duration: ${String(rule.for)}`);
      if (!SEVERITIES.includes(String(rule.labels?.severity))) problems.push(`${at}: severity not one of ${SEVERITIES.join(', ')}`);
      for (const key of ['summary', 'description']) {
        const text = rule.annotations?.[key];
        if (typeof text !== 'string' || text.trim() === '') problems.push(`${at}: no ${key}`);
        else if (text.split('{{').length !== text.split('}}').length) problems.push(`${at}: ${key} has an unclosed template`);
      }
    }
  }
  return problems;
}

/** Brackets that do not pair up outside string literals, or a string left open. */
function balanceProblem(expr: string): string | undefined {
  const closing: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
  const stack: string[] = [];
  let quote: string | undefined;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c in closing) stack.push(closing[c]!);
    else if (c === ')' || c === ']' || c === '}') {
      if (stack.pop() !== c) return `has an unmatched ${c} at ${i}`;
    }
  }
  if (quote) return 'has an unterminated string';
  return stack.length > 0 ? `leaves ${stack.reverse().join('')} unclosed` : undefined;
}
