/**
 * The budget ledger of one startup, as pure functions over a plain state: what a call
 * may spend is decided here, and nowhere else.
 *
 * A call is admitted by a reservation of its worst case (one call against the hourly
 * window, input plus max_tokens at the provider's prices against the daily one) before
 * it is forwarded; the reservation is settled to what the call really cost when it ends,
 * charged in full when it was interrupted (a cut stream, a killed operator: what the
 * provider billed is unknown, so the worst case is assumed), or released when the call
 * never left. Open reservations count against the windows exactly like spending, so any
 * number of concurrent calls can never together pass a limit. The persisted state is
 * this object, so a restarted operator sees every reservation its predecessor made.
 *
 * Money is integer micro-USD. Windows are the clock hour (calls) and the UTC day (cost).
 */
import { formatUsd } from '../api/money.ts';

/** `calls` reached a provider and are billed; `cachedCalls` were answered from the response cache, free. */
export type Usage = { calls: number; cachedCalls: number; inputTokens: number; outputTokens: number; costMicros: number };

export type Reservation = {
  task: string;
  /** Which operator process made it: another one's open reservation is a call it can no longer settle. */
  holder: string;
  at: number;
  hour: string;
  day: string;
  costMicros: number;
  /** Past this the call cannot still be running (its provider's timeout and a margin): it is charged in full. */
  deadline: number;
};

export type BudgetKind = 'calls' | 'cost';

export type LedgerState = {
  hour: string;
  /** Settled calls in `hour`. */
  calls: number;
  day: string;
  /** Settled cost in `day`. */
  costMicros: number;
  totals: Usage;
  tasks: Record<string, Usage>;
  open: Record<string, Reservation>;
  /** The last refusal of the current window: the pipeline pauses until `resetsAt`. */
  exhausted?: { kind: BudgetKind; at: number; resetsAt: number; message: string };
};

export type Limits = { callsPerHour: number; costPerDayMicros: number };

export type Refusal = { kind: BudgetKind; limit: number; used: number; requested: number; resetsAt: number; message: string };

export type ReserveRequest = { id: string; task: string; holder: string; costMicros: number; deadline: number };

export type Outcome =
  | { kind: 'usage'; inputTokens: number; outputTokens: number; costMicros: number }
  /**
   * What was billed is unknown: charged the call's worst case, `worstCaseMicros` when the
   * caller knows it (a call on a spare may have reserved more than it could cost), else
   * the whole reservation.
   */
  | { kind: 'interrupted'; worstCaseMicros?: number }
  | { kind: 'released' };

const ZERO: Usage = { calls: 0, cachedCalls: 0, inputTokens: 0, outputTokens: 0, costMicros: 0 };

export const hourOf = (ms: number) => new Date(ms).toISOString().slice(0, 13);
export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const nextHour = (ms: number) => (Math.floor(ms / 3_600_000) + 1) * 3_600_000;
const nextDay = (ms: number) => (Math.floor(ms / 86_400_000) + 1) * 86_400_000;

export function emptyLedger(now: number): LedgerState {
  return { hour: hourOf(now), calls: 0, day: dayOf(now), costMicros: 0, totals: { ...ZERO }, tasks: {}, open: {} };
}

/** The state in the windows of `now`: counters of a past hour or day start again from zero. Same object when nothing moved. */
export function roll(state: LedgerState, now: number): LedgerState {
  const hour = hourOf(now);
  const day = dayOf(now);
  const expired = state.exhausted !== undefined && now >= state.exhausted.resetsAt;
  if (hour === state.hour && day === state.day && !expired) return state;
  const next: LedgerState = { ...state };
  if (hour !== state.hour) {
    next.hour = hour;
    next.calls = 0;
  }
  if (day !== state.day) {
    next.day = day;
    next.costMicros = 0;
  }
  if (expired) delete next.exhausted;
  return next;
}

/** What counts against each window right now: settled plus open. */
export function windowUsage(state: LedgerState): { calls: number; costMicros: number; reservedMicros: number } {
  let calls = state.calls;
  let reservedMicros = 0;
  for (const r of Object.values(state.open)) {
    if (r.hour === state.hour) calls++;
    if (r.day === state.day) reservedMicros += r.costMicros;
  }
  return { calls, costMicros: state.costMicros, reservedMicros };
}

/**
 * Admits a call by reserving its worst case, or refuses it. A refusal is recorded, so
 * the pipeline learns the budget is spent and when it comes back.
 */
export function reserve(state: LedgerState, request: ReserveRequest, limits: Limits, now: number):
  { ok: true; state: LedgerState } | { ok: false; state: LedgerState; refusal: Refusal } {
  const current = roll(state, now);
  if (current.open[request.id]) return { ok: true, state: current };
  const used = windowUsage(current);
  let refusal: Refusal | undefined;
  if (current.exhausted) {
    // Spent is spent until the window resets: a smaller call that would still fit is refused
    // too, so the pipeline's pause is a pause and not a trickle of calls that happen to fit.
    const { kind, resetsAt, message } = current.exhausted;
    return { ok: false, state: current, refusal: { kind, limit: kind === 'calls' ? limits.callsPerHour : limits.costPerDayMicros, used: kind === 'calls' ? used.calls : used.costMicros + used.reservedMicros, requested: kind === 'calls' ? 1 : request.costMicros, resetsAt, message } };
  }
  if (used.calls + 1 > limits.callsPerHour) {
    const resetsAt = nextHour(now);
    refusal = {
      kind: 'calls', limit: limits.callsPerHour, used: used.calls, requested: 1, resetsAt,
      message: `callsPerHour ${limits.callsPerHour} reached (${used.calls} calls this hour)`,
    };
  } else if (used.costMicros + used.reservedMicros + request.costMicros > limits.costPerDayMicros) {
    const resetsAt = nextDay(now);
    refusal = {
      kind: 'cost', limit: limits.costPerDayMicros, used: used.costMicros + used.reservedMicros, requested: request.costMicros, resetsAt,
      message: `costPerDay ${formatUsd(limits.costPerDayMicros)} USD would be exceeded: ${formatUsd(used.costMicros)} spent, ${formatUsd(used.reservedMicros)} held by calls in flight, this call may cost up to ${formatUsd(request.costMicros)}`,
    };
  }
  if (refusal) {
    return { ok: false, refusal, state: { ...current, exhausted: { kind: refusal.kind, at: now, resetsAt: refusal.resetsAt, message: refusal.message } } };
  }
  const reservation: Reservation = {
    task: request.task, holder: request.holder, at: now, hour: current.hour, day: current.day, costMicros: request.costMicros, deadline: request.deadline,
  };
  return { ok: true, state: { ...current, open: { ...current.open, [request.id]: reservation } } };
}

/**
 * Ends a reservation. A reservation already gone (settled by a successor that took it
 * over) is left alone: no call is ever billed twice. Spending lands in the windows the
 * call was admitted in, while they are still current, and always in the totals; in a
 * task's usage when the reservation names its task, or `task` does (a spare names none
 * until a call takes it).
 */
export function settle(state: LedgerState, id: string, outcome: Outcome, now: number, task?: string): LedgerState {
  const current = roll(state, now);
  const reservation = current.open[id];
  if (!reservation) return current;
  const { [id]: _settled, ...open } = current.open;
  if (outcome.kind === 'released') return { ...current, open };
  const charge: Usage = outcome.kind === 'usage'
    ? { ...ZERO, calls: 1, inputTokens: outcome.inputTokens, outputTokens: outcome.outputTokens, costMicros: outcome.costMicros }
    : { ...ZERO, calls: 1, costMicros: Math.min(reservation.costMicros, outcome.worstCaseMicros ?? reservation.costMicros) };
  const charged = task ?? reservation.task;
  return {
    ...current,
    open,
    calls: current.calls + (reservation.hour === current.hour ? 1 : 0),
    costMicros: current.costMicros + (reservation.day === current.day ? charge.costMicros : 0),
    totals: add(current.totals, charge),
    tasks: charged ? { ...current.tasks, [charged]: add(current.tasks[charged] ?? ZERO, charge) } : current.tasks,
  };
}

/**
 * Spares are reservations made ahead, in the same write as a call's own, for calls that
 * have not come yet: a later call whose worst case fits one takes it in memory and goes
 * out at once, its worst case already on record, instead of waiting for a write of its
 * own (the gateway's latency is then the API server's only when the spares run out).
 * A spare is an ordinary open reservation, so everything that holds for those holds for
 * it: it counts against the windows, a successor charges it in full (it may have been
 * taken by a call whose settlement never landed: that over-charge, at most `MAX_SPARES`
 * spares per startup and failover, is the price of never under-charging), and a spare
 * left idle, or whose Startup's pipeline is over, is released by its holder.
 */
export const SPARE_PREFIX = 'spare-';
export const MAX_SPARES = 4;
/**
 * A spare not taken for this long is released by its holder; its deadline is this much
 * past its model's, so it outlives that. Long enough to bridge a pipeline's gaps (a task's
 * call ends, its output is stored, the next task's pod starts), so that the calls after a
 * Startup's first go out on spares; short enough that a finished pipeline's budget is
 * whole again soon.
 */
export const SPARE_IDLE_MS = 120_000;
/**
 * A spare holds this many times the worst case of the call it is shaped like: a pipeline's
 * later tasks carry the earlier ones' outputs, so their worst cases grow, and a spare the
 * size of the first call's would carry none of them.
 */
export const SPARE_HEADROOM = 2;

/**
 * Adds spares shaped like `like` (a call just admitted, its worst case times `SPARE_HEADROOM`) until its holder has `MAX_SPARES`
 * untaken or they would hold more than a quarter of what the windows have left, so a
 * budget near its end is spent call by call, as without spares. Never refuses and never
 * marks the budget spent: a spare that does not fit is simply not made.
 */
export function addSpares(state: LedgerState, like: ReserveRequest, untaken: number, limits: Limits, now: number, ids: () => string): LedgerState {
  const current = roll(state, now);
  if (current.exhausted) return current;
  // Another writer's calls on record: two replicas in a failover's overlap. One of them could be
  // refused for budget the other's spares hold, and a refusal pauses the pipeline till the window resets.
  if (Object.values(current.open).some((r) => r.holder !== like.holder)) return current;
  const used = windowUsage(current);
  const callsLeft = limits.callsPerHour - used.calls;
  const costLeft = limits.costPerDayMicros - used.costMicros - used.reservedMicros;
  const size = like.costMicros * SPARE_HEADROOM;
  const count = Math.min(MAX_SPARES - untaken, Math.floor(callsLeft / 4), size > 0 ? Math.floor(costLeft / 4 / size) : MAX_SPARES);
  if (count <= 0) return current;
  const open = { ...current.open };
  for (let i = 0; i < count; i++) {
    open[`${SPARE_PREFIX}${ids()}`] = {
      task: '', holder: like.holder, at: now, hour: current.hour, day: current.day, costMicros: size, deadline: like.deadline + SPARE_IDLE_MS,
    };
  }
  return { ...current, open };
}

/** Whether the spare `id` may carry `request` now: same windows, a worst case and a deadline at least the call's, budget not spent. */
export function spareFits(state: LedgerState, id: string, request: ReserveRequest, now: number): boolean {
  const r = state.open[id];
  return r !== undefined && r.holder === request.holder && r.hour === hourOf(now) && r.day === dayOf(now)
    && r.costMicros >= request.costMicros && r.deadline >= request.deadline && !roll(state, now).exhausted;
}

/**
 * The spare `id`, taken by a call whose worst case is `costMicros`, shrunk to that: what
 * the headroom held beyond it is the budget's again (written with the refill the taking
 * queued), so near the end of a budget a call on a spare keeps out no call that fits.
 */
export function fitSpare(state: LedgerState, id: string, costMicros: number): LedgerState {
  const r = state.open[id];
  if (!r || r.costMicros <= costMicros) return state;
  return { ...state, open: { ...state.open, [id]: { ...r, costMicros } } };
}

/** `holder`'s spares in `state`, as its memory should know them after a write. */
export function sparesOf(state: LedgerState, holder: string): string[] {
  return Object.entries(state.open).filter(([id, r]) => id.startsWith(SPARE_PREFIX) && r.holder === holder).map(([id]) => id);
}

/**
 * Records a call answered from the response cache: it reached no provider, so it is
 * billed nothing and counts against no window, and it is never refused, a spent budget
 * included (it spends none). It shows in the task's usage and the totals only.
 */
export function recordCacheHit(state: LedgerState, task: string, now: number): LedgerState {
  const current = roll(state, now);
  const hit: Usage = { ...ZERO, cachedCalls: 1 };
  return { ...current, totals: add(current.totals, hit), tasks: { ...current.tasks, [task]: add(current.tasks[task] ?? ZERO, hit) } };
}

/** A ledger as stored; one written before cache hits were counted reads as having none. */
export function parseLedger(json: string): LedgerState {
  const state = JSON.parse(json) as LedgerState;
  const upgraded = (u: Usage): Usage => ({ ...u, cachedCalls: u.cachedCalls ?? 0 });
  return { ...state, totals: upgraded(state.totals), tasks: Object.fromEntries(Object.entries(state.tasks).map(([task, u]) => [task, upgraded(u)])) };
}

/**
 * Charges in full every open reservation that can no longer be settled by its call:
 * another process's (it crashed or lost the lead with the call in flight) and any past
 * its deadline. What a provider billed for such a call is unknown; the worst case is
 * what was reserved, so the budget still holds, and the reservation stops holding
 * budget for calls that never come back.
 */
export function closeOrphans(state: LedgerState, holder: string, now: number): LedgerState {
  let next = state;
  for (const [id, r] of Object.entries(state.open)) {
    if (r.holder !== holder || r.deadline < now) next = settle(next, id, { kind: 'interrupted' }, now);
  }
  return next;
}

/** The budget is spent: when it comes back, and why. */
export function exhaustion(state: LedgerState, now: number): LedgerState['exhausted'] {
  const current = roll(state, now);
  return current.exhausted;
}

function add(a: Usage, b: Usage): Usage {
  return {
    calls: a.calls + b.calls, cachedCalls: a.cachedCalls + b.cachedCalls,
    inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens, costMicros: a.costMicros + b.costMicros,
  };
}

