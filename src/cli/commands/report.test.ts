import { describe, expect, it } from 'vitest';
import type { AnalyticsReport, GroupFigures } from '../../analytics/model.ts';
import { CliError } from '../errors.ts';
import { formatDuration, formatReportTable, run } from './report.ts';

const figures = (key: string, o: Partial<GroupFigures>): GroupFigures => ({
  key, count: 0, succeeded: 0, failed: 0, successRate: null, meanSeconds: null, p95Seconds: null,
  meanCostUsd: '0.000000', totalCostUsd: '0.000000', inputTokens: 0, outputTokens: 0, meanQuality: null, ...o,
});

const report = (by: AnalyticsReport['by'], groups: GroupFigures[]): AnalyticsReport => ({
  by, unit: by === 'provider' ? 'tasks' : 'startups', granularity: 'day', since: '2026-02-08T12:00:00.000Z', until: '2026-03-10T12:00:00.000Z', groups, series: [],
});

describe('formatReportTable', () => {
  it('aligns the columns, durations and tokens in human units', () => {
    const table = formatReportTable(report('industry', [
      figures('fintech', { count: 3, succeeded: 2, failed: 1, successRate: 2 / 3, meanSeconds: 83, p95Seconds: 3725, meanCostUsd: '0.004250', inputTokens: 12_345, outputTokens: 2_500_000 }),
      figures('(none)', { count: 1, succeeded: 1, successRate: 1, meanSeconds: 4.21, p95Seconds: 4.3, inputTokens: 900, outputTokens: 1200 }),
    ]), '30d');
    expect(table).toBe([
      'By industry: startups finished in the last 30d (daily figures)',
      'KEY      STARTUPS  SUCCESS  MEAN   P95    MEAN COST  TOKENS (IN/OUT)',
      'fintech  3         66.7%    1m23s  1h02m  0.004250   12.3k/2.5M',
      '(none)   1         100.0%   4.2s   4.3s   0.000000   900/1200',
      '',
    ].join('\n'));
  });

  it('counts tasks and shows quality for providers, and only a header when nothing finished', () => {
    const table = formatReportTable(report('provider', [figures('offline', { count: 12, succeeded: 12, successRate: 1, meanSeconds: 12, p95Seconds: 20, meanQuality: 0.834 })]), '48h');
    expect(table.split('\n').slice(1, 3)).toEqual([
      'KEY      TASKS  SUCCESS  MEAN  P95  MEAN COST  TOKENS (IN/OUT)  QUALITY',
      'offline  12     100.0%   12s   20s  0.000000   0/0              0.83',
    ]);
    expect(formatReportTable(report('template', []), '7d').split('\n')).toEqual([
      'By template: startups finished in the last 7d (daily figures)',
      'KEY  STARTUPS  SUCCESS  MEAN  P95  MEAN COST  TOKENS (IN/OUT)',
      '',
    ]);
  });

  it('formats durations from a fraction of a second to days', () => {
    expect([null, 0.25, 59.6, 60, 3599, 3600, 90_061].map(formatDuration)).toEqual(['-', '0.3s', '1m00s', '1m00s', '59m59s', '1h00m', '1d01h']);
  });
});

describe('report flags', () => {
  it('refuses a bad flag with a one-line usage error before touching a cluster', async () => {
    for (const argv of [['--by', 'color'], ['--output', 'yaml'], ['--since', '2y'], ['--frobnicate']]) {
      const err = await run(argv).catch((e: unknown) => e);
      expect(err, argv.join(' ')).toBeInstanceOf(CliError);
      expect((err as CliError).exitCode).toBe(2);
      expect((err as CliError).message).not.toContain('\n');
    }
  });
});
