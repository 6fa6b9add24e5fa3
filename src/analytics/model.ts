/**
 * The analytics engine: what finished, how well, how fast and at what cost, per industry,
 * category and template (Startups) and per provider (tasks), over time. Pure: the store
 * keeps the state in one ConfigMap and the dashboard and `startup-factory report` read it.
 *
 * The state is bounded whatever the factory does, because it has to fit a ConfigMap
 * (1 MiB): a fixed number of time buckets, a cap on the values of each dimension in a
 * bucket, sparse histograms instead of samples, and the keys of what was counted only
 * for Startups that still exist. Figures survive the Startups they count.
 */
import { z } from 'zod';
import type { Startup } from '../api/index.ts';
import { toKubeTime } from '../api/conditions.ts';
import { formatUsd, isUsdDecimal, parseUsd } from '../api/money.ts';

export const DIMENSIONS = ['industry', 'category', 'template', 'provider'] as const;
export type Dimension = (typeof DIMENSIONS)[number];
export type Granularity = 'hour' | 'day';

export type GroupFigures = {
  /** The dimension's value, '(none)' when unset, '(other)' for the overflow. */
  key: string;
  /** Startups finished (industry/category/template) or tasks finished (provider). */
  count: number;
  succeeded: number;
  failed: number;
  /** succeeded / count, null when count is 0. */
  successRate: number | null;
  /** Creation time of the startups (task duration for provider), of the succeeded ones: a failure's time says nothing of how long building takes. */
  meanSeconds: number | null;
  /** Within HISTOGRAM_FACTOR of the true value (the histogram's resolution). */
  p95Seconds: number | null;
  /** Decimal string, 6 places, e.g. "0.004250". */
  meanCostUsd: string;
  totalCostUsd: string;
  inputTokens: number;
  outputTokens: number;
  /** Provider only; null elsewhere. */
  meanQuality: number | null;
};

export type AnalyticsReport = {
  by: Dimension;
  unit: 'startups' | 'tasks';
  granularity: Granularity;
  /** ISO timestamps. */
  since: string;
  until: string;
  /** The whole window, sorted by count desc then key. */
  groups: GroupFigures[];
  /** One entry per bucket in the window, oldest first, empty buckets included. */
  series: { start: string; groups: GroupFigures[] }[];
};

export type ReportQuery = { by: Dimension; granularity: Granularity; since: Date; until: Date };

/**
 * `48h` → the last 48 hours in hourly buckets, `7d` → the last 7 days in daily ones, up to
 * `now`: how `report --since` and the dashboard's `?since=` read a window, so both print
 * the same report. Bounded by what the buckets keep.
 */
export function reportWindow(value: string, now: Date): { ok: true; granularity: Granularity; since: Date; until: Date } | { ok: false; error: string } {
  const match = /^(\d{1,3})([hd])$/.exec(value);
  const granularity: Granularity = match?.[2] === 'h' ? 'hour' : 'day';
  const amount = Number(match?.[1]);
  const max = granularity === 'hour' ? HOURLY_BUCKETS : DAILY_BUCKETS;
  if (!match || amount < 1 || amount > max) {
    return { ok: false, error: `"${value}" must be 1h to ${HOURLY_BUCKETS}h (hourly figures) or 1d to ${DAILY_BUCKETS}d (daily figures)` };
  }
  return { ok: true, granularity, since: new Date(now.getTime() - amount * (granularity === 'hour' ? 3_600_000 : 86_400_000)), until: now };
}

export const NONE = '(none)';
export const OTHER = '(other)';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Hourly buckets kept: the last 48 clock hours (UTC), the current one included. */
export const HOURLY_BUCKETS = 48;
/** Daily buckets kept: the last 90 UTC days, today included. */
export const DAILY_BUCKETS = 90;
/** Distinct values of a dimension in one bucket; more fold into OTHER. */
export const MAX_VALUES_PER_BUCKET = 50;
/**
 * Durations are counted in log-spaced bins, each this factor wider than the last from 1 s
 * (below 1 s, one bin): a percentile read from them is within 10% of the truth (5% from
 * the bin's geometric middle), and bins of different buckets add up.
 */
export const HISTOGRAM_FACTOR = 1.1;
/**
 * A completion is counted once it is this old: the ledger's usage of a Startup (its cost,
 * its tokens) reaches status a second or so after its last call settles, which can be
 * after the phase says Succeeded, and a completion is counted only once.
 */
export const SETTLE_MS = 5_000;
/**
 * What the serialized state may weigh: under the 1 MiB of a ConfigMap with room for its
 * metadata. The caps keep it far below in practice (1000 startups over 90 days weigh
 * about 330 KB); `fitToSize` keeps the promise when they do not.
 */
export const MAX_STATE_BYTES = 900_000;

/** One group's sums in one bucket. Zeros are left out, so a bucket of few events stays small. */
type Figures = {
  /** Finished. */
  n: number;
  /** Succeeded (failed = n - ok). */
  ok?: number;
  /** Summed duration in ms, of the succeeded. */
  ms?: number;
  /** Histogram of the succeeded's durations: bin (see `bin`) → count. */
  h?: Record<string, number>;
  /** Cost in micro-USD. */
  usd?: number;
  in?: number;
  out?: number;
  /** Quality summed over `qn` scored tasks (provider only). */
  q?: number;
  qn?: number;
};

type Bucket = {
  /** UTC, second precision. */
  start: string;
  by: Partial<Record<Dimension, Record<string, Figures>>>;
};

export type AnalyticsState = {
  version: 1;
  /** Oldest first. */
  hours: Bucket[];
  days: Bucket[];
  /**
   * What was counted, per Startup uid: the names of its tasks, '' for the Startup's own
   * completion (no task has an empty name); `true` once nothing more of it can ever be.
   * Only Startups that still exist have an entry (see `prune`).
   */
  recorded: Record<string, true | string[]>;
};

const count = z.int().min(0);
const figuresSchema = z.object({
  n: count, ok: count.optional(), ms: count.optional(), h: z.record(z.string().regex(/^\d+$/), count).optional(),
  usd: count.optional(), in: count.optional(), out: count.optional(), q: z.number().min(0).optional(), qn: count.optional(),
});
const bucketSchema = z.object({
  start: z.iso.datetime(),
  by: z.partialRecord(z.enum(DIMENSIONS), z.record(z.string(), figuresSchema)),
});
const stateSchema = z.object({
  version: z.literal(1),
  hours: z.array(bucketSchema),
  days: z.array(bucketSchema),
  recorded: z.record(z.string(), z.union([z.literal(true), z.array(z.string())])),
});

export function emptyAnalytics(): AnalyticsState {
  return { version: 1, hours: [], days: [], recorded: {} };
}

/**
 * The state as the ConfigMap holds it; a corrupt or missing value gives an empty state
 * (never throws), and `onCorrupt` hears why a value present was unreadable.
 */
export function parseAnalytics(data: string | undefined, onCorrupt?: (reason: string) => void): AnalyticsState {
  if (!data) return emptyAnalytics();
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch (err) {
    onCorrupt?.((err as Error).message);
    return emptyAnalytics();
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) {
    onCorrupt?.(parsed.error.issues[0]?.message ?? 'invalid');
    return emptyAnalytics();
  }
  const byStart = (a: Bucket, b: Bucket) => Date.parse(a.start) - Date.parse(b.start);
  const state = parsed.data as AnalyticsState;
  return { ...state, hours: [...state.hours].sort(byStart), days: [...state.days].sort(byStart) };
}

export function serializeAnalytics(state: AnalyticsState): string {
  return JSON.stringify(state);
}

// ---- time ----

const SIZE: Record<Granularity, number> = { hour: HOUR_MS, day: DAY_MS };
const KEPT: Record<Granularity, number> = { hour: HOURLY_BUCKETS, day: DAILY_BUCKETS };
const floorTo = (t: number, g: Granularity) => Math.floor(t / SIZE[g]) * SIZE[g];
/** Start of the oldest bucket still kept at `now`. */
const oldestKept = (now: number, g: Granularity) => floorTo(now, g) - (KEPT[g] - 1) * SIZE[g];
const listOf = (state: AnalyticsState, g: Granularity) => (g === 'hour' ? state.hours : state.days);

// ---- recording ----

/** One finished Startup or task, as it adds to a group. */
type Sample = { succeeded: boolean; durationMs: number | undefined; costMicros: number; inputTokens: number; outputTokens: number; quality: number | undefined };

/** Bin of a duration: 0 below 1 s, then i for [1.1^(i-1), 1.1^i) s. */
function bin(seconds: number): number {
  return seconds < 1 ? 0 : 1 + Math.floor(Math.log(seconds) / Math.log(HISTOGRAM_FACTOR));
}

/** The duration a bin stands for: its geometric middle (0.5 s for the first). */
function binSeconds(i: number): number {
  return i === 0 ? 0.5 : HISTOGRAM_FACTOR ** (i - 1) * Math.sqrt(HISTOGRAM_FACTOR);
}

function sampleFigures(s: Sample): Figures {
  const f: Figures = { n: 1 };
  if (s.succeeded) {
    f.ok = 1;
    if (s.durationMs !== undefined) {
      f.ms = s.durationMs;
      f.h = { [bin(s.durationMs / 1000)]: 1 };
    }
  }
  if (s.costMicros > 0) f.usd = s.costMicros;
  if (s.inputTokens > 0) f.in = s.inputTokens;
  if (s.outputTokens > 0) f.out = s.outputTokens;
  if (s.quality !== undefined) {
    f.q = s.quality;
    f.qn = 1;
  }
  return f;
}

const SUMMED = ['ok', 'ms', 'usd', 'in', 'out', 'q', 'qn'] as const;

function addFigures(a: Figures | undefined, b: Figures): Figures {
  if (!a) return b;
  const sum: Figures = { n: a.n + b.n };
  for (const k of SUMMED) {
    const v = (a[k] ?? 0) + (b[k] ?? 0);
    if (v !== 0) sum[k] = v;
  }
  if (a.h || b.h) {
    const h = { ...a.h };
    for (const [i, c] of Object.entries(b.h ?? {})) h[i] = (h[i] ?? 0) + c;
    sum.h = h;
  }
  return sum;
}

/** A record's own entry: values are user text, and `'__proto__'` must not read the prototype. */
const own = <T>(record: Record<string, T> | undefined, key: string): T | undefined =>
  record && Object.hasOwn(record, key) ? record[key] : undefined;

function addToBucket(bucket: Bucket, dimension: Dimension, key: string, f: Figures): Bucket {
  const values = bucket.by[dimension] ?? {};
  const full = own(values, key) === undefined && Object.keys(values).filter((k) => k !== OTHER).length >= MAX_VALUES_PER_BUCKET;
  const k = full ? OTHER : key;
  return { ...bucket, by: { ...bucket.by, [dimension]: { ...values, [k]: addFigures(own(values, k), f) } } };
}

/** The bucket list with `f` added at `at`; the same list when `at` is older than it keeps. */
function addToList(list: Bucket[], g: Granularity, dimension: Dimension, key: string, at: number, f: Figures, now: number): Bucket[] {
  const start = floorTo(at, g);
  if (start < oldestKept(now, g)) return list;
  const stamp = toKubeTime(new Date(start));
  const i = list.findIndex((b) => Date.parse(b.start) >= start);
  const next = [...list];
  if (i >= 0 && list[i]!.start === stamp) next[i] = addToBucket(list[i]!, dimension, key, f);
  else next.splice(i < 0 ? list.length : i, 0, addToBucket({ start: stamp, by: {} }, dimension, key, f));
  return next;
}

type Completion = { at: number; groups: [Dimension, string][]; sample: Sample };
type Task = NonNullable<NonNullable<Startup['status']>['tasks']>[number];

const time = (iso: string | undefined) => (iso === undefined ? Number.NaN : Date.parse(iso));
const usd = (value: string | undefined) => (value !== undefined && isUsdDecimal(value) ? parseUsd(value) : 0);
const isFinal = (phase: string | undefined) => phase === 'Succeeded' || phase === 'Failed';
const duration = (from: number, to: number) => (Number.isFinite(from) ? Math.max(0, Math.round(to - from)) : undefined);

/** The Startup's own completion, when it has one that can be counted. */
function startupCompletion(s: Startup): Completion | undefined {
  const status = s.status;
  const started = time(status?.startedAt);
  const completed = time(status?.completedAt);
  if (!isFinal(status?.phase) || !Number.isFinite(started) || !Number.isFinite(completed)) return undefined;
  return {
    at: completed,
    groups: [['industry', s.spec.industry || NONE], ['category', s.spec.category || NONE], ['template', s.spec.template || NONE]],
    sample: {
      succeeded: status!.phase === 'Succeeded', durationMs: duration(started, completed),
      costMicros: usd(status!.usage?.totalCostUsd), inputTokens: status!.usage?.totalInputTokens ?? 0, outputTokens: status!.usage?.totalOutputTokens ?? 0,
      quality: undefined,
    },
  };
}

function taskCompletion(t: Task): Completion | undefined {
  const finished = time(t.finishedAt);
  if (!isFinal(t.phase) || !t.provider || !Number.isFinite(finished)) return undefined;
  return {
    at: finished,
    groups: [['provider', t.provider]],
    sample: {
      succeeded: t.phase === 'Succeeded', durationMs: duration(time(t.startedAt), finished),
      costMicros: usd(t.usage?.costUsd), inputTokens: t.usage?.inputTokens ?? 0, outputTokens: t.usage?.outputTokens ?? 0, quality: t.quality,
    },
  };
}

/** Every completion of a Startup, under the key it is recorded by. */
function completions(s: Startup): { key: string; completion: Completion | undefined; final: boolean }[] {
  const tasks = (s.status?.tasks ?? []).map((t) => ({ key: t.name, completion: taskCompletion(t), final: isFinal(t.phase) || t.phase === 'Skipped' }));
  return [...tasks, { key: '', completion: startupCompletion(s), final: isFinal(s.status?.phase) }];
}

const tooOld = (at: number, now: number) => floorTo(at, 'day') < oldestKept(now, 'day');

/**
 * Counts what of the Startup finished and was not counted yet: the Startup itself once
 * its phase is Succeeded or Failed (creation time completedAt - startedAt, bucketed at
 * completedAt), and each Succeeded or Failed task that names its provider (bucketed at
 * finishedAt). A completion is counted SETTLE_MS after it happened; one older than the
 * daily buckets is ignored. The same state when nothing was counted.
 */
export function observeStartup(state: AnalyticsState, startup: Startup, now: Date): AnalyticsState {
  const uid = startup.metadata.uid;
  if (!uid) return state;
  const seen = state.recorded[uid];
  if (seen === true) return state;
  const t = now.getTime();
  const done = new Set(seen ?? []);
  let { hours, days } = state;
  let counted = false;
  // Nothing more can be counted once every task and the Startup are final and each either counted or never countable.
  let sealed = true;
  for (const { key, completion, final } of completions(startup)) {
    if (done.has(key)) continue;
    if (!final) {
      sealed = false;
      continue;
    }
    if (!completion || tooOld(completion.at, t)) continue;
    if (completion.at + SETTLE_MS > t) {
      sealed = false;
      continue;
    }
    const f = sampleFigures(completion.sample);
    for (const [dimension, value] of completion.groups) {
      hours = addToList(hours, 'hour', dimension, value, completion.at, f, t);
      days = addToList(days, 'day', dimension, value, completion.at, f, t);
    }
    done.add(key);
    counted = true;
  }
  sealed &&= done.has('');
  if (!counted && !sealed) return state;
  return { ...state, hours, days, recorded: { ...state.recorded, [uid]: sealed ? true : [...done] } };
}

/**
 * When the Startup next has a completion to count: the end of the earliest SETTLE_MS
 * still running; undefined when none is. The store sets its timer by it.
 */
export function settlesAt(startup: Startup, now: Date): Date | undefined {
  const t = now.getTime();
  const due = completions(startup)
    .map(({ completion }) => completion && completion.at + SETTLE_MS)
    .filter((at): at is number => at !== undefined && at > t);
  return due.length > 0 ? new Date(Math.min(...due)) : undefined;
}

/**
 * Drops the buckets past their retention and the recorded keys of Startups no longer
 * live (a deleted Startup never comes back under the same uid); the same state when
 * there was nothing to drop.
 */
export function prune(state: AnalyticsState, liveUids: ReadonlySet<string>, now: Date): AnalyticsState {
  const t = now.getTime();
  const keep = (list: Bucket[], g: Granularity) => {
    const oldest = oldestKept(t, g);
    const kept = list.filter((b) => Date.parse(b.start) >= oldest);
    return kept.length === list.length ? list : kept;
  };
  const hours = keep(state.hours, 'hour');
  const days = keep(state.days, 'day');
  const gone = Object.keys(state.recorded).filter((uid) => !liveUids.has(uid));
  if (hours === state.hours && days === state.days && gone.length === 0) return state;
  const recorded = { ...state.recorded };
  for (const uid of gone) delete recorded[uid];
  return { ...state, hours, days, recorded };
}

/**
 * The state within `maxBytes` serialized, the oldest days dropped first, then the oldest
 * hours (the recorded keys stay: dropping them would count live Startups again); the same
 * state when it fits.
 */
export function fitToSize(state: AnalyticsState, maxBytes = MAX_STATE_BYTES): AnalyticsState {
  // Bytes, not characters: the limit is on UTF-8, and an industry may be named in any script.
  let size = Buffer.byteLength(serializeAnalytics(state));
  if (size <= maxBytes) return state;
  const hours = [...state.hours];
  const days = [...state.days];
  while (size > maxBytes && (days.length > 0 || hours.length > 0)) {
    const dropped = days.length > 0 ? days.shift()! : hours.shift()!;
    // Each bucket is an element of an array: its JSON and a comma.
    size -= Buffer.byteLength(JSON.stringify(dropped)) + 1;
  }
  return { ...state, hours, days };
}

// ---- reporting ----

function p95(h: Record<string, number> | undefined, total: number): number | null {
  if (!h || total === 0) return null;
  const rank = Math.ceil(0.95 * total);
  let seen = 0;
  for (const i of Object.keys(h).map(Number).sort((a, b) => a - b)) {
    seen += h[String(i)]!;
    if (seen >= rank) return binSeconds(i);
  }
  return null;
}

function groupFigures(key: string, f: Figures, withQuality: boolean): GroupFigures {
  const succeeded = f.ok ?? 0;
  const cost = f.usd ?? 0;
  return {
    key,
    count: f.n,
    succeeded,
    failed: f.n - succeeded,
    successRate: f.n > 0 ? succeeded / f.n : null,
    meanSeconds: succeeded > 0 && f.ms !== undefined ? f.ms / 1000 / succeeded : null,
    p95Seconds: p95(f.h, Object.values(f.h ?? {}).reduce((a, b) => a + b, 0)),
    meanCostUsd: formatUsd(f.n > 0 ? Math.round(cost / f.n) : 0),
    totalCostUsd: formatUsd(cost),
    inputTokens: f.in ?? 0,
    outputTokens: f.out ?? 0,
    meanQuality: withQuality && f.qn ? (f.q ?? 0) / f.qn : null,
  };
}

function sortedGroups(sums: ReadonlyMap<string, Figures>, withQuality: boolean): GroupFigures[] {
  return [...sums]
    .map(([key, f]) => groupFigures(key, f, withQuality))
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * The figures of one dimension over a window, as a whole and bucket by bucket. Buckets
 * are whole: a window starting mid-hour includes that hour. The window is clamped to the
 * retention ending at `until` (48 hours, 90 days), since nothing older is kept.
 */
export function buildReport(state: AnalyticsState, query: ReportQuery): AnalyticsReport {
  const { by, granularity: g } = query;
  const until = query.until.getTime();
  if (Number.isNaN(until) || Number.isNaN(query.since.getTime())) throw new RangeError('since and until must be valid dates');
  const since = Math.max(query.since.getTime(), floorTo(until - 1, g) - (KEPT[g] - 1) * SIZE[g]);
  const withQuality = by === 'provider';
  const buckets = new Map(listOf(state, g).map((b) => [Date.parse(b.start), b]));
  const total = new Map<string, Figures>();
  const series: AnalyticsReport['series'] = [];
  for (let start = since < until ? floorTo(since, g) : until; start < until; start += SIZE[g]) {
    const sums = new Map<string, Figures>();
    for (const [key, f] of Object.entries(buckets.get(start)?.by[by] ?? {})) {
      sums.set(key, f);
      total.set(key, addFigures(total.get(key), f));
    }
    series.push({ start: toKubeTime(new Date(start)), groups: sortedGroups(sums, withQuality) });
  }
  return {
    by, unit: withQuality ? 'tasks' : 'startups', granularity: g,
    since: new Date(since).toISOString(), until: new Date(until).toISOString(),
    groups: sortedGroups(total, withQuality), series,
  };
}
