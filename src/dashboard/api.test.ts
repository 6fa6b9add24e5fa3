import { describe, expect, it } from 'vitest';
import { parseAnalyticsQuery } from './api.ts';

const now = new Date('2026-12-02T12:00:00Z');

describe('parseAnalyticsQuery', () => {
  it('defaults to industries over 30 days, in daily buckets', () => {
    expect(parseAnalyticsQuery(new URLSearchParams(), now)).toEqual({
      ok: true, query: { by: 'industry', granularity: 'day', since: new Date('2026-11-02T12:00:00Z'), until: now },
    });
  });

  it('reads a window in hours in hourly buckets', () => {
    expect(parseAnalyticsQuery(new URLSearchParams('by=provider&since=48h'), now)).toMatchObject({
      ok: true, query: { by: 'provider', granularity: 'hour', since: new Date('2026-11-30T12:00:00Z') },
    });
  });

  it('refuses an unknown dimension or window with a message saying what is allowed', () => {
    expect(parseAnalyticsQuery(new URLSearchParams('by=founder'), now)).toEqual({ ok: false, error: 'by must be one of industry, category, template, provider' });
    expect(parseAnalyticsQuery(new URLSearchParams('since=2w'), now)).toMatchObject({ ok: false, error: expect.stringMatching(/^since "2w" must be 1h to 48h/) });
    expect(parseAnalyticsQuery(new URLSearchParams('since=91d'), now)).toMatchObject({ ok: false });
    expect(parseAnalyticsQuery(new URLSearchParams('since=0d'), now)).toMatchObject({ ok: false });
  });
});
