import { CoreV1Api } from '@kubernetes/client-node';
import { parseArgs } from 'node:util';
import { DIMENSIONS, buildReport, parseAnalytics, reportWindow, type AnalyticsReport, type Dimension } from '../../analytics/model.ts';
import { ANALYTICS_CONFIGMAP, ANALYTICS_KEY } from '../../analytics/store.ts';
import { loadKubeConfig } from '../../kube/config.ts';
import { isNotFound } from '../../kube/errors.ts';
import { CliError } from '../errors.ts';

const USAGE = 'usage: startup-factory report [--by industry|category|template|provider] [--since 30d|48h|...] [--output table|json] [--namespace <ns>] [--kubeconfig <file>]';
const HELP = `${USAGE}

The factory's analytics (the dashboard's figures): per industry, category and template,
the startups finished; per provider, the tasks finished: success rate, mean and p95 time,
mean cost, tokens. Read from the ConfigMap ${ANALYTICS_CONFIGMAP} in the operator's namespace.

  --by          one dimension (default: all four, one table each)
  --since       the window, up to now: 1h..48h in hourly buckets, 1d..90d in daily ones (default 30d)
  --output      table (default) or json: the AnalyticsReport as /api/analytics gives it (an array of four without --by)
  --namespace   the operator's namespace (default $POD_NAMESPACE, else startup-factory)
  --kubeconfig  kubeconfig file (default $KUBECONFIG, in-cluster config, ~/.kube/config)
`;

/** 83 → `1m23s`: the shortest form that still shows the part that matters. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  const two = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${two(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${two(Math.floor(s / 3600) % 24)}h`;
}

function formatCount(n: number): string {
  if (n < 10_000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** One report as an aligned table, under a line saying what it counts over which window. */
export function formatReportTable(report: AnalyticsReport, window: string): string {
  const provider = report.by === 'provider';
  const header = ['KEY', report.unit.toUpperCase(), 'SUCCESS', 'MEAN', 'P95', 'MEAN COST', 'TOKENS (IN/OUT)', ...(provider ? ['QUALITY'] : [])];
  const rows = report.groups.map((g) => [
    g.key,
    String(g.count),
    g.successRate === null ? '-' : `${(g.successRate * 100).toFixed(1)}%`,
    formatDuration(g.meanSeconds),
    formatDuration(g.p95Seconds),
    g.meanCostUsd,
    `${formatCount(g.inputTokens)}/${formatCount(g.outputTokens)}`,
    ...(provider ? [g.meanQuality === null ? '-' : g.meanQuality.toFixed(2)] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const title = `By ${report.by}: ${report.unit} finished in the last ${window} (${report.granularity === 'hour' ? 'hourly' : 'daily'} figures)`;
  return [title, line(header), ...rows.map(line)].join('\n') + '\n';
}

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        by: { type: 'string' }, since: { type: 'string', default: '30d' }, output: { type: 'string', default: 'table' },
        namespace: { type: 'string' }, kubeconfig: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    });
  } catch (err) {
    throw new CliError(`${(err as Error).message.split('\n')[0]} (${USAGE})`, 2);
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.by !== undefined && !(DIMENSIONS as readonly string[]).includes(values.by)) {
    throw new CliError(`--by "${values.by}": must be one of ${DIMENSIONS.join(', ')}`, 2);
  }
  if (values.output !== 'table' && values.output !== 'json') throw new CliError(`--output "${values.output}": must be table or json`, 2);
  const window = reportWindow(values.since, new Date());
  if (!window.ok) throw new CliError(`--since ${window.error}`, 2);
  const namespace = values.namespace ?? (process.env.POD_NAMESPACE || 'startup-factory');

  let api: CoreV1Api;
  try {
    api = loadKubeConfig(values.kubeconfig).makeApiClient(CoreV1Api);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  let data: string | undefined;
  let found = true;
  try {
    data = (await api.readNamespacedConfigMap({ name: ANALYTICS_CONFIGMAP, namespace })).data?.[ANALYTICS_KEY];
  } catch (err) {
    if (!isNotFound(err)) throw new CliError(`reading ConfigMap ${namespace}/${ANALYTICS_CONFIGMAP}: ${(err as Error).message.split('\n')[0]}`);
    found = false;
  }
  const state = parseAnalytics(data, (reason) => process.stderr.write(`startup-factory: ConfigMap ${namespace}/${ANALYTICS_CONFIGMAP} is unreadable (${reason}); showing no figures\n`));
  const { granularity, since, until } = window;
  const dimensions: readonly Dimension[] = values.by ? [values.by as Dimension] : DIMENSIONS;
  const reports = dimensions.map((by) => buildReport(state, { by, granularity, since, until }));

  if (values.output === 'json') {
    process.stdout.write(`${JSON.stringify(values.by ? reports[0] : reports, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(reports.map((r) => formatReportTable(r, values.since)).join('\n'));
  if (!found) process.stdout.write(`\nno startup has finished yet (no ConfigMap ${ANALYTICS_CONFIGMAP} in namespace ${namespace})\n`);
  return 0;
}
