import { describe, expect, it } from 'vitest';
import { exposedFamilies, operatorMetricNames, ruleGroupProblems } from './monitoring.ts';

const alert = {
  alert: 'Down', expr: 'absent(up{job="x"} == 1)', for: '5m', labels: { severity: 'critical' },
  annotations: { summary: 'down', description: '{{ $labels.job }} is down' },
};

describe('operatorMetricNames', () => {
  it('names the families a query reads, histograms by their family name', () => {
    expect(operatorMetricNames('histogram_quantile(0.9, sum by (le) (rate(startup_factory_task_duration_seconds_bucket{a="b"}[5m]))) / up'))
      .toEqual(['startup_factory_task_duration_seconds']);
    expect(operatorMetricNames('sum(rate(startup_factory_ai_calls_total[1m])) / sum(startup_factory_reconcile_duration_seconds_count)'))
      .toEqual(['startup_factory_ai_calls_total', 'startup_factory_reconcile_duration_seconds']);
  });
});

describe('exposedFamilies', () => {
  it('reads the TYPE lines, so a family with no sample yet counts', () => {
    const text = '# HELP a_total A.\n# TYPE a_total counter\n# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 0\n';
    expect([...exposedFamilies(text)]).toEqual(['a_total', 'h']);
  });
});

describe('ruleGroupProblems', () => {
  it('accepts a well-formed group', () => {
    expect(ruleGroupProblems([{ name: 'g', rules: [alert, { record: 'job:up:sum', expr: 'sum by (job) (up)' }] }])).toEqual([]);
  });

  it.each([
    ['no group', [], 'no rule groups'],
    ['an unnamed group', [{ rules: [alert] }], 'no name'],
    ['duplicate groups', [{ name: 'g', rules: [alert] }, { name: 'g', rules: [alert] }], 'duplicate name'],
    ['no rules', [{ name: 'g', rules: [] }], 'no rules'],
    ['both alert and record', [{ name: 'g', rules: [{ ...alert, record: 'x' }] }], 'exactly one'],
    ['a bad record name', [{ name: 'g', rules: [{ record: 'job-up', expr: 'up' }] }], 'bad name'],
    ['an empty expr', [{ name: 'g', rules: [{ ...alert, expr: ' ' }] }], 'empty expr'],
    ['an unclosed paren', [{ name: 'g', rules: [{ ...alert, expr: 'sum(rate(x[5m])' }] }], 'unclosed'],
    ['a mismatched bracket', [{ name: 'g', rules: [{ ...alert, expr: 'rate(x[5m)]' }] }], 'unmatched'],
    ['an open string', [{ name: 'g', rules: [{ ...alert, expr: 'up{job="x}' }] }], 'unterminated string'],
    ['a bad for', [{ name: 'g', rules: [{ ...alert, for: '5 minutes' }] }], 'not a duration'],
    ['units out of order', [{ name: 'g', rules: [{ ...alert, for: '5m1h' }] }], 'not a duration'],
    ['an unknown severity', [{ name: 'g', rules: [{ ...alert, labels: { severity: 'page' } }] }], 'severity'],
    ['no description', [{ name: 'g', rules: [{ ...alert, annotations: { summary: 's' } }] }], 'no description'],
    ['an unclosed template', [{ name: 'g', rules: [{ ...alert, annotations: { summary: 's', description: '{{ $value ' } }] }], 'unclosed template'],
  ])('refuses %s', (_, groups, problem) => {
    expect(ruleGroupProblems(groups as never).join('\n')).toContain(problem);
  });

  it('does not count brackets inside strings', () => {
    expect(ruleGroupProblems([{ name: 'g', rules: [{ ...alert, expr: 'up{job=~"a(b|c"} == 0' }] }])).toEqual([]);
  });
});
