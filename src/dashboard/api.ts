/** The figures `/api/analytics` serves: the analytics engine's report for one query. */
export type AnalyticsQuery = { by: 'industry' | 'category' | 'template' | 'provider'; granularity: 'hour' | 'day'; since: Date; until: Date };
export type AnalyticsSource = { report(query: AnalyticsQuery): unknown };

const BY = ['industry', 'category', 'template', 'provider'] as const;

/**
 * `?by=provider&since=48h` → the query. A window in hours is read in hourly buckets, one
 * in days in daily buckets; the defaults are the report's (by industry, the last 30 days).
 */
export function parseAnalyticsQuery(params: URLSearchParams, now: Date): { ok: true; query: AnalyticsQuery } | { ok: false; error: string } {
  const by = params.get('by') ?? 'industry';
  if (!(BY as readonly string[]).includes(by)) return { ok: false, error: `by must be one of ${BY.join(', ')}` };
  const since = params.get('since') ?? '30d';
  const window = /^([1-9][0-9]{0,3})([hd])$/.exec(since);
  if (!window) return { ok: false, error: 'since must be a number of hours or days, e.g. 48h or 30d' };
  const hours = Number(window[1]) * (window[2] === 'd' ? 24 : 1);
  return {
    ok: true,
    query: { by: by as AnalyticsQuery['by'], granularity: window[2] === 'h' ? 'hour' : 'day', since: new Date(now.getTime() - hours * 3_600_000), until: now },
  };
}

/**
 * `GET /api/`: the API documents itself. Every endpoint answers JSON (the stream answers
 * Server-Sent Events), only to a viewer the cluster lets list Startups.
 */
export const API_INDEX = {
  description: 'Startup Factory dashboard API: read-only, from the operator\'s informer caches. Send `Authorization: Bearer <token>` (a token the API server accepts, whose user may list startups.startupfactory.dev).',
  endpoints: [
    { path: '/api/session', description: 'who you are to the dashboard: { user, auth }' },
    { path: '/api/startups', description: 'every Startup as the overview shows it: { items: [{ name, displayName, industry, category, template, phase, ready, progress, cost, calls, tokens, tasks[] }] }; money as decimal USD strings' },
    { path: '/api/startups/{name}', description: 'one Startup: { startup, conditions, pipeline, events, objects, outputs (previews), context, files, problems }' },
    { path: '/api/providers', description: 'every AIProvider: { items: [{ name, type, model, maxConcurrency, pricing, ready, stats[] (per task type: samples, successRate, meanQuality, meanLatencyMs, meanCostUsd) }] }' },
    { path: '/api/analytics?by=industry|category|template|provider&since=30d|48h', description: 'success rate, mean and p95 creation time, mean cost and tokens per group, over the window and per bucket (hourly for a window in hours, daily in days); kept in the API, so deleted Startups still count' },
    { path: '/api/stream', description: 'Server-Sent Events: `snapshot` ({ at, startups, providers }), then `startup`, `startup-deleted`, `provider`, `provider-deleted` as they change' },
  ],
} as const;
