import { DIMENSIONS, reportWindow, type Dimension, type ReportQuery } from '../analytics/model.ts';

/** `?by=provider&since=48h` → the query, read as `startup-factory report` reads its flags (by industry over 30 days unless told). */
export function parseAnalyticsQuery(params: URLSearchParams, now: Date): { ok: true; query: ReportQuery } | { ok: false; error: string } {
  const by = params.get('by') ?? 'industry';
  if (!(DIMENSIONS as readonly string[]).includes(by)) return { ok: false, error: `by must be one of ${DIMENSIONS.join(', ')}` };
  const window = reportWindow(params.get('since') ?? '30d', now);
  if (!window.ok) return { ok: false, error: `since ${window.error}` };
  return { ok: true, query: { by: by as Dimension, granularity: window.granularity, since: window.since, until: window.until } };
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
    { path: '/api/analytics?by=industry|category|template|provider&since=30d|48h', description: 'the AnalyticsReport `startup-factory report --output json` prints: per group count, success rate, mean and p95 time, mean and total cost, tokens (quality for providers), over the window and per bucket (hourly for a window in hours, up to 48h; daily in days, up to 90d); kept in the API, so deleted Startups still count' },
    { path: '/api/stream', description: 'Server-Sent Events: `snapshot` ({ at, startups, providers }), then `startup`, `startup-deleted`, `provider`, `provider-deleted` as they change' },
  ],
} as const;
