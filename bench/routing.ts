/**
 * Routing by measured quality, cost and latency (src/providers/routing.ts), and whether
 * it meets the goal: at least 95% of the best fixed provider's quality at no more than
 * 50% of its cost.
 *
 * Phase 1, a pure simulation (no cluster): three mock providers of different quality,
 * price and latency over a few hundred tasks of three types. Every task draws an outcome
 * for every provider (so "had we always used X" is measured on the same tasks); the
 * router sees only the one it chose, records it with recordSample and routes the next.
 *   a. stationary, with a restart halfway: the evidence goes through the API shape
 *      (`AIProvider.status.stats`) and back, against a router that restarts from nothing;
 *   b. drift: halfway, the balanced provider gets worse, and the router follows;
 *   c. the decision's time, for the three providers and for ten.
 * Phase 2 runs the same question through the real operator (see operatorPhase).
 * Regret is against the best fixed provider per task type, known in hindsight (the
 * cheapest whose expected quality is within 5% of the best): the quality lost below
 * it, and the money spent above it, on expectation (pseudo-regret, so luck does not
 * blur it).
 */
import { formatUsd, parseUsd, tokenCostMicros, type AIProvider, type Startup, type TaskType } from '../src/api/index.ts';
import type { KubeObject } from '../src/kube/client.ts';
import { PROVIDER_ANNOTATION } from '../src/pipeline/names.ts';
import { validOutput } from '../test/support/ai-fixture/replies.ts';
import { AiFixture } from '../test/support/ai-fixture/server.ts';
import { mulberry32, normal, type Rng } from '../src/lib/random.ts';
import type { Prices } from '../src/api/money.ts';
import { DEFAULT_ROUTING_POLICY, rankProviders, type RouteOption, type RoutingPolicy } from '../src/providers/routing.ts';
import { recordSample, statsByType, statsList, type Sample, type TaskStats } from '../src/providers/stats.ts';
import { RUN_LABEL, applyAll, benchCluster, cleanupRun, freePort, pct, until, withOperator } from './_setup.ts';

const TASKS = 600;
const WINDOW = 50;
const TASK_EVERY_MS = 60_000;
const GOAL = { quality: 0.95, cost: 0.5 };
const T0 = Date.parse('2026-03-01T00:00:00Z');
const policy: RoutingPolicy = DEFAULT_ROUTING_POLICY;

type Skill = { quality: number; sd: number; failRate: number };
type MockProvider = { name: string; prices: Prices; latencyMs: number; skill: Record<SimType, Skill> };
type SimType = Extract<TaskType, 'research' | 'codegen' | 'review'>;
const TYPES: readonly SimType[] = ['research', 'codegen', 'review'];
const usdPerM = (input: number, output: number): Prices => ({ inputMicrosPerMillion: input * 1_000_000, outputMicrosPerMillion: output * 1_000_000 });

// Premium is the best everywhere, at five times balanced's price; balanced is about 3% below
// it; budget is poor but for review, where it is a little better than balanced at a tenth
// of its price. Quality here counts failures as 0, as the evidence does.
const PROVIDERS: readonly MockProvider[] = [
  {
    name: 'premium', prices: usdPerM(5, 15), latencyMs: 9_000,
    skill: { research: { quality: 0.92, sd: 0.05, failRate: 0.02 }, codegen: { quality: 0.93, sd: 0.05, failRate: 0.02 }, review: { quality: 0.92, sd: 0.05, failRate: 0.02 } },
  },
  {
    name: 'balanced', prices: usdPerM(1, 3), latencyMs: 4_000,
    skill: { research: { quality: 0.9, sd: 0.06, failRate: 0.03 }, codegen: { quality: 0.91, sd: 0.06, failRate: 0.03 }, review: { quality: 0.9, sd: 0.06, failRate: 0.03 } },
  },
  {
    name: 'budget', prices: usdPerM(0.1, 0.3), latencyMs: 1_500,
    skill: { research: { quality: 0.68, sd: 0.1, failRate: 0.1 }, codegen: { quality: 0.62, sd: 0.12, failRate: 0.1 }, review: { quality: 0.93, sd: 0.05, failRate: 0.05 } },
  },
];
const NAMES = PROVIDERS.map((p) => p.name);

type Task = { type: SimType; now: number; outcomes: Record<string, Sample>; best: string; expected: Record<string, { quality: number; costMicros: number }> };

const typicalCost = (p: MockProvider, type: SimType) =>
  tokenCostMicros(policy.typicalTokens[type].input, p.prices.inputMicrosPerMillion) + tokenCostMicros(policy.typicalTokens[type].output, p.prices.outputMicrosPerMillion);

/** The tasks and every provider's outcome on each, from a seed; `drift` changes a provider's skill from a task on. */
function world(seed: number, drift?: { from: number; provider: string; quality: number }): Task[] {
  const rng = mulberry32(seed);
  return Array.from({ length: TASKS }, (_, i) => {
    const type = TYPES[Math.floor(rng() * TYPES.length)]!;
    const tokens = policy.typicalTokens[type];
    const input = Math.round(tokens.input * (0.8 + 0.4 * rng()));
    const output = Math.round(tokens.output * (0.7 + 0.6 * rng()));
    const outcomes: Record<string, Sample> = {};
    const expected: Task['expected'] = {};
    for (const p of PROVIDERS) {
      const base = p.skill[type];
      const skill = drift && i >= drift.from && p.name === drift.provider ? { ...base, quality: base.quality + drift.quality } : base;
      const success = rng() >= skill.failRate;
      outcomes[p.name] = {
        success,
        quality: success ? Math.min(1, Math.max(0, skill.quality + skill.sd * normal(rng))) : 0,
        latencyMs: Math.round(p.latencyMs * Math.exp(0.3 * normal(rng))),
        costMicros: tokenCostMicros(input, p.prices.inputMicrosPerMillion) + tokenCostMicros(output, p.prices.outputMicrosPerMillion),
      };
      expected[p.name] = { quality: (1 - skill.failRate) * skill.quality, costMicros: typicalCost(p, type) };
    }
    const top = Math.max(...NAMES.map((n) => expected[n]!.quality));
    const best = NAMES.filter((n) => expected[n]!.quality >= GOAL.quality * top).sort((a, b) => expected[a]!.costMicros - expected[b]!.costMicros)[0]!;
    return { type, now: T0 + i * TASK_EVERY_MS, outcomes, best, expected };
  });
}

type Evidence = Map<string, Map<TaskType, TaskStats>>;
type Window = { from: number; shares: Record<string, number>; quality: number; costMicros: number; regretQuality: number; regretMicros: number; explored: number };
type Run = { windows: Window[]; quality: number; costMicros: number; regretQuality: number; regretMicros: number; choices: string[] };

/** Routes `tasks` from no evidence, learning as it goes; `restartAt` sends the evidence through the API shape and back there. */
function route(tasks: readonly Task[], rng: Rng, restartAt?: number): Run {
  let evidence: Evidence = new Map();
  const windows: Window[] = [];
  const choices: string[] = [];
  let quality = 0;
  let cost = 0;
  let regretQuality = 0;
  let regretMicros = 0;
  let window: Window | undefined;
  tasks.forEach((task, i) => {
    if (i === restartAt) evidence = throughTheApi(evidence);
    if (i % WINDOW === 0) {
      window = { from: i, shares: Object.fromEntries(NAMES.map((n) => [n, 0])), quality: 0, costMicros: 0, regretQuality: 0, regretMicros: 0, explored: 0 };
      windows.push(window);
    }
    const options: RouteOption[] = PROVIDERS.map((p) => ({ name: p.name, prices: p.prices, stats: evidence.get(p.name)?.get(task.type) }));
    const decision = rankProviders(options, task.type, rng, task.now, policy);
    const chosen = decision.order[0]!;
    const outcome = task.outcomes[chosen]!;
    const byType = evidence.get(chosen) ?? new Map<TaskType, TaskStats>();
    byType.set(task.type, recordSample(byType.get(task.type), outcome, task.now, policy));
    evidence.set(chosen, byType);

    const got = task.expected[chosen]!;
    const best = task.expected[task.best]!;
    regretQuality += Math.max(0, best.quality - got.quality);
    regretMicros += Math.max(0, got.costMicros - best.costMicros);
    quality += outcome.quality;
    cost += outcome.costMicros;
    choices.push(chosen);
    const w = window!;
    w.shares[chosen]! += 1;
    w.quality += outcome.quality;
    w.costMicros += outcome.costMicros;
    w.explored += decision.explored ? 1 : 0;
    w.regretQuality = regretQuality;
    w.regretMicros = regretMicros;
  });
  for (const w of windows) {
    const n = Object.values(w.shares).reduce((a, b) => a + b, 0);
    for (const name of NAMES) w.shares[name]! /= n;
    w.quality /= n;
    w.costMicros /= n;
  }
  return { windows, quality: quality / tasks.length, costMicros: cost / tasks.length, regretQuality, regretMicros, choices };
}

/** What a restarted operator reads: each provider's `status.stats`, as JSON, parsed back. */
function throughTheApi(evidence: Evidence): Evidence {
  const statuses = JSON.parse(JSON.stringify(Object.fromEntries([...evidence].map(([name, byType]) => [name, { stats: statsList(byType) }]))));
  return new Map(Object.entries(statuses).map(([name, status]) => [name, statsByType(status as Parameters<typeof statsByType>[0])]));
}

function fixed(tasks: readonly Task[], name: string): { quality: number; costMicros: number } {
  return {
    quality: tasks.reduce((s, t) => s + t.outcomes[name]!.quality, 0) / tasks.length,
    costMicros: tasks.reduce((s, t) => s + t.outcomes[name]!.costMicros, 0) / tasks.length,
  };
}

const usd = (micros: number) => `$${formatUsd(Math.round(micros))}`;
const share = (x: number) => `${(100 * x).toFixed(0).padStart(3)}%`;

function printWindows(title: string, run: Run, marks: Record<number, string> = {}): void {
  console.log(`\n${title}`);
  console.log(`  tasks     ${NAMES.map((n) => n.padStart(8)).join(' ')}  quality  mean cost    regret: quality  extra cost  explored`);
  for (const w of run.windows) {
    const to = w.from + WINDOW;
    console.log(`  ${String(w.from + 1).padStart(3)}-${String(to).padEnd(4)} ${NAMES.map((n) => share(w.shares[n]!).padStart(8)).join(' ')}  ${w.quality.toFixed(3).padStart(7)}  ${usd(w.costMicros)}  ${w.regretQuality.toFixed(2).padStart(15)}  ${usd(w.regretMicros).padStart(10)}  ${String(w.explored).padStart(8)}${marks[w.from] ? `  <- ${marks[w.from]}` : ''}`);
  }
}

/** Microseconds per decision over `options`, after a warm-up (the first calls measure the JIT, not the router). */
function decisionTimes(options: readonly RouteOption[], rng: Rng): number[] {
  for (let i = 0; i < 2_000; i++) rankProviders(options, 'codegen', rng, T0, policy);
  const us: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const started = performance.now();
    rankProviders(options, 'codegen', rng, T0, policy);
    us.push((performance.now() - started) * 1000);
  }
  return us.sort((x, y) => x - y);
}

/** Phase 1: the simulation; returns its figures for the JSON line. */
function simulation(seed: number) {
  const half = TASKS / 2;
  const stationary = world(1 + seed);
  const a = route(stationary, mulberry32(11 + seed), half);
  printWindows(`a. stationary, ${TASKS} tasks over ${TYPES.join(', ')}; shares routed per window of ${WINDOW}, regret cumulative`, a, { [half]: 'restart: evidence through status.stats and back' });

  const cold = route(stationary.slice(half), mulberry32(11 + seed));
  const warm = a.windows.find((w) => w.from === half)!;
  const atRestart = a.windows.find((w) => w.from === half - WINDOW)!;
  const coldFirst = cold.windows[0]!;
  const shares = (w: Window) => NAMES.map((n) => `${n} ${share(w.shares[n]!)}`).join(', ');
  const tail = { regretQuality: a.regretQuality - atRestart.regretQuality, regretMicros: a.regretMicros - atRestart.regretMicros };
  console.log(`  after the restart, tasks ${half + 1}-${half + WINDOW}: ${shares(warm)}; regret over tasks ${half + 1}-${TASKS}: quality ${tail.regretQuality.toFixed(2)}, extra cost ${usd(tail.regretMicros)}`);
  console.log(`    a router starting from nothing there instead:  ${shares(coldFirst)}; regret: quality ${cold.regretQuality.toFixed(2)}, extra cost ${usd(cold.regretMicros)}`);

  const fixedRuns = Object.fromEntries(NAMES.map((n) => [n, fixed(stationary, n)]));
  const bestFixed = NAMES.reduce((x, y) => (fixedRuns[y]!.quality > fixedRuns[x]!.quality ? y : x));
  const reference = fixedRuns[bestFixed]!;
  const qualityRatio = a.quality / reference.quality;
  const costRatio = a.costMicros / reference.costMicros;
  const goalMet = qualityRatio >= GOAL.quality && costRatio <= GOAL.cost;
  const ratios = (f: { quality: number; costMicros: number }) =>
    `${f.quality.toFixed(3).padStart(7)}  ${usd(f.costMicros)}  ${(100 * f.quality / reference.quality).toFixed(1).padStart(21)}%  ${(100 * f.costMicros / reference.costMicros).toFixed(1).padStart(5)}%`;
  console.log('\n  over all tasks   quality  mean cost  vs best fixed: quality   cost');
  console.log(`  router           ${ratios(a)}`);
  for (const n of NAMES) console.log(`  always ${n.padEnd(9)} ${ratios(fixedRuns[n]!)}${n === bestFixed ? '  (best fixed)' : ''}`);
  const lastTasks = 3 * WINDOW;
  const perType = TYPES.map((t) => {
    const chosen = a.choices.filter((_, i) => i >= TASKS - lastTasks && stationary[i]!.type === t);
    const top = NAMES.reduce((x, y) => (chosen.filter((c) => c === y).length > chosen.filter((c) => c === x).length ? y : x));
    return `${t}: ${top} ${share(chosen.filter((c) => c === top).length / chosen.length)} (best in hindsight: ${stationary.find((task) => task.type === t)!.best})`;
  });
  console.log(`  most chosen per type in the last ${lastTasks} tasks: ${perType.join('; ')}`);
  console.log(`  goal (>= ${100 * GOAL.quality}% of the best fixed provider's quality at <= ${100 * GOAL.cost}% of its cost): ${goalMet ? 'met' : 'NOT met'}`);

  const drifted = world(2 + seed, { from: half, provider: 'balanced', quality: -0.2 });
  const b = route(drifted, mulberry32(12 + seed));
  printWindows(`b. drift: from task ${half + 1} balanced's quality drops by 0.2 (regret against the best provider of the moment)`, b, { [half]: 'balanced gets worse' });
  // Research and codegen only: on review balanced was never the choice.
  const toBalanced = (from: number, to: number) => {
    const picked = b.choices.slice(from, to).filter((_, i) => drifted[from + i]!.type !== 'review');
    return picked.filter((c) => c === 'balanced').length / picked.length;
  };
  const drift = { before: toBalanced(half - WINDOW, half), after: toBalanced(half, half + WINDOW), next: toBalanced(half + WINDOW, half + 2 * WINDOW), last: toBalanced(TASKS - 2 * WINDOW, TASKS) };
  console.log(`  research and codegen sent to balanced: ${share(drift.before)} in the ${WINDOW} tasks before the drift, ${share(drift.after)} in the ${WINDOW} after, ${share(drift.next)} in the next ${WINDOW}, ${share(drift.last)} in the last ${2 * WINDOW}`);

  // c. Decision time: the three providers unmeasured, and ten measured ones.
  const rng = mulberry32(13 + seed);
  const three = decisionTimes(PROVIDERS.map((p) => ({ name: p.name, prices: p.prices, stats: undefined })), rng);
  const ten: RouteOption[] = Array.from({ length: 10 }, (_, i) => {
    let stats: TaskStats | undefined;
    for (let k = 0; k < 40; k++) stats = recordSample(stats, { success: rng() > 0.05, quality: 0.5 + 0.04 * i + 0.05 * normal(rng), latencyMs: 2000 + 500 * i, costMicros: 1000 * (i + 1) }, T0 - k * 1000, policy);
    return { name: `provider-${i}`, prices: usdPerM(i + 1, 3 * (i + 1)), stats };
  });
  const tenUs = decisionTimes(ten, rng);
  console.log(`\nc. decision time: 3 providers p50 ${pct(three, 50).toFixed(1)} µs, p99 ${pct(three, 99).toFixed(1)} µs; 10 providers p50 ${pct(tenUs, 50).toFixed(1)} µs, p99 ${pct(tenUs, 99).toFixed(1)} µs`);

  return {
    tasks: TASKS, seed,
    router: { quality: +a.quality.toFixed(4), meanCostUsd: formatUsd(Math.round(a.costMicros)), regretQuality: +a.regretQuality.toFixed(3), regretUsd: formatUsd(Math.round(a.regretMicros)) },
    bestFixed: { name: bestFixed, quality: +reference.quality.toFixed(4), meanCostUsd: formatUsd(Math.round(reference.costMicros)) },
    qualityRatio: +qualityRatio.toFixed(4), costRatio: +costRatio.toFixed(4), goalMet,
    restart: {
      restored: { shares: warm.shares, regretQuality: +tail.regretQuality.toFixed(3), regretUsd: formatUsd(Math.round(tail.regretMicros)) },
      fromNothing: { shares: coldFirst.shares, regretQuality: +cold.regretQuality.toFixed(3), regretUsd: formatUsd(Math.round(cold.regretMicros)) },
    },
    drift: { balancedShare: Object.fromEntries(Object.entries(drift).map(([k, v]) => [k, +v.toFixed(3)])), quality: +b.quality.toFixed(4), regretQuality: +b.regretQuality.toFixed(3) },
    decisionUs: { p50: +pct(three, 50).toFixed(2), p99: +pct(three, 99).toFixed(2), tenP50: +pct(tenUs, 50).toFixed(2), tenP99: +pct(tenUs, 99).toFixed(2) },
  };
}

/**
 * Phase 2, the real thing: the operator (in this process, against the cluster) routes real
 * task Jobs to three mock providers that answer every research and analysis task, each
 * with its own quality (the same valid output, trimmed for balanced, thin and generic for
 * budget: the rubric scores them), price and latency. Startups come in windows; after half
 * of them the operator is replaced by a new one, which starts from what the first left in
 * AIProvider.status.stats.
 */
async function operatorPhase() {
  const run = `r${Date.now().toString(36)}`;
  const { kc, client, template } = await benchCluster(run);
  const namespace = `sf-bench-${run}`;
  const bench = { kc, run, namespace, gatewayPort: await freePort() };
  const labels = { [RUN_LABEL]: run };
  const tiers = [
    { name: 'premium', input: '5.00', output: '15.00', latencyMs: 1_500, answer: (o: unknown) => o },
    { name: 'balanced', input: '1.00', output: '3.00', latencyMs: 800, answer: slimmer },
    { name: 'budget', input: '0.10', output: '0.30', latencyMs: 300, answer: (o: unknown) => generic(trim(o, 1)) },
  ];
  const fixtures = await Promise.all(tiers.map(async (t) => {
    const f = new AiFixture({ apiKey: `sk-${t.name}`, latencyMs: t.latencyMs, reply: (req) => { const r = validOutput(req); return { ...r, content: JSON.stringify(t.answer(JSON.parse(r.content))) }; } });
    await f.start();
    return f;
  }));
  const provider = (t: (typeof tiers)[number]) => `${run}-${t.name}`;
  const WINDOWS = 8;
  const PER_WINDOW = 3;
  const TASKS_PER_STARTUP = 6;
  const windows: { shares: Record<string, number>; quality: number; costMicros: number }[] = [];
  const startupOf = (w: number, i: number) => ({
    apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', metadata: { name: `${run}-w${w}-${i}`, labels },
    spec: {
      // The mock answers are about Acme Pay: the rubric scores them as specific to it.
      displayName: 'Acme Pay', industry: 'fintech', category: 'payments', template,
      // Each its own cohort, so no two prompts are the same and the response cache answers none.
      idea: `Instant payouts for freelancers: invoices get paid the day they are approved, with tax estimates built in (cohort ${w}-${i}).`,
      ai: { providers: tiers.map(provider) },
      pipeline: { tasks: Array.from({ length: TASKS_PER_STARTUP }, (_, k) => ({ name: `task-${k}`, type: k % 2 ? 'analysis' : 'research' })) },
    },
  });
  const statsOf = async () => Object.fromEntries(await Promise.all(tiers.map(async (t) => {
    const p = await client.get<AIProvider>({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider', name: provider(t) });
    return [t.name, (p.status?.stats ?? []).map((s) => `${s.taskType} n=${s.samples} q=${s.meanQuality.toFixed(2)} $${s.meanCostUsd}`).join(', ')] as const;
  })));
  const window = async (w: number) => {
    const names = Array.from({ length: PER_WINDOW }, (_, i) => startupOf(w, i));
    await applyAll(client, names);
    let done: Startup[] = [];
    await until(`window ${w}`, async () => {
      done = await Promise.all(names.map((n) => client.get<Startup>({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', name: n.metadata.name })));
      return done.every((s) => s.status?.phase === 'Succeeded' || s.status?.phase === 'Failed');
    }, 600_000);
    // The provider each attempt started on (the router's choice), from the Jobs' annotation.
    const shares = Object.fromEntries(tiers.map((t) => [provider(t), 0]));
    let jobs = 0;
    for (const n of names) {
      for (const j of (await client.list<KubeObject>('batch/v1', 'Job', { namespace: `startup-${n.metadata.name}` })).items) {
        const p = j.metadata.annotations?.[PROVIDER_ANNOTATION];
        if (p && p in shares) { shares[p]!++; jobs++; }
      }
    }
    const tasks = done.flatMap((s) => s.status?.tasks ?? []);
    windows.push({
      shares: Object.fromEntries(tiers.map((t) => [t.name, shares[provider(t)]! / Math.max(1, jobs)])),
      quality: tasks.reduce((a, t) => a + (t.quality ?? 0), 0) / tasks.length,
      costMicros: tasks.reduce((a, t) => a + parseUsd(t.usage?.costUsd ?? '0'), 0) / tasks.length,
    });
  };
  try {
    const half = WINDOWS / 2;
    await withOperator(bench, [], async () => {
      for (let i = 0; i < 100 && !(await client.getOptional({ apiVersion: 'v1', kind: 'Namespace', name: namespace })); i++) await new Promise((r) => setTimeout(r, 100));
      await applyAll(client, tiers.flatMap((t, i) => [
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${provider(t)}-key`, namespace }, stringData: { 'api-key': `sk-${t.name}` } },
        {
          apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider', metadata: { name: provider(t), labels },
          spec: { type: 'openai', model: t.name, baseURL: `${fixtures[i]!.url}/v1`, secretRef: { name: `${provider(t)}-key` }, pricing: { inputPerMillionTokens: t.input, outputPerMillionTokens: t.output }, maxConcurrency: 50 },
        },
      ]));
      await until('the providers to be Ready', async () => {
        const ps = await Promise.all(tiers.map((t) => client.get<AIProvider>({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider', name: provider(t) })));
        return ps.every((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      }, 60_000);
      for (let w = 0; w < half; w++) await window(w);
    });
    const atRestart = await statsOf();
    await withOperator(bench, [], async () => {
      for (let w = half; w < WINDOWS; w++) await window(w);
    });
    const tasksPerWindow = PER_WINDOW * TASKS_PER_STARTUP;
    console.log(`\nphase 2: the operator routing real task Jobs, ${WINDOWS} windows of ${PER_WINDOW} Startups x ${TASKS_PER_STARTUP} tasks (research, analysis); shares are of the provider each attempt started on;`);
    console.log('  balanced answers a little less fully than premium at a fifth of its price; budget\'s answers score below --min-quality, so they cost a second call');
    console.log('  tasks      premium balanced   budget  quality  mean cost per task');
    windows.forEach((w, i) => {
      const mark = i === half ? '  <- a new operator, from AIProvider.status.stats' : '';
      console.log(`  ${`${i * tasksPerWindow + 1}-${(i + 1) * tasksPerWindow}`.padEnd(9)} ${tiers.map((t) => share(w.shares[t.name]!).padStart(8)).join(' ')}  ${w.quality.toFixed(3).padStart(7)}  ${usd(w.costMicros)}${mark}`);
    });
    // Against always asking premium (the best fixed provider here), as measured by the end.
    const premium = (await client.get<AIProvider>({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider', name: provider(tiers[0]!) })).status?.stats ?? [];
    const premiumQuality = premium.reduce((a, x) => a + x.meanQuality, 0) / Math.max(1, premium.length);
    const premiumCost = premium.reduce((a, x) => a + parseUsd(x.meanCostUsd), 0) / Math.max(1, premium.length);
    const late = windows.slice(half);
    const lateQuality = late.reduce((a, w) => a + w.quality, 0) / late.length;
    const lateCost = late.reduce((a, w) => a + w.costMicros, 0) / late.length;
    const vsPremium = { quality: lateQuality / premiumQuality, cost: lateCost / premiumCost };
    console.log(`  after the restart: ${(100 * vsPremium.quality).toFixed(1)}% of always-premium's quality (${premiumQuality.toFixed(3)}) at ${(100 * vsPremium.cost).toFixed(1)}% of its cost (${usd(premiumCost)} a task)`);
    console.log('  evidence when the first operator stopped:');
    for (const [name, line] of Object.entries(atRestart)) console.log(`    ${name.padEnd(9)} ${line}`);
    return {
      windows: windows.map((w) => ({ shares: w.shares, quality: +w.quality.toFixed(3), meanCostUsd: formatUsd(Math.round(w.costMicros)) })), restartAfterWindow: half,
      afterRestartVsPremium: { quality: +vsPremium.quality.toFixed(4), cost: +vsPremium.cost.toFixed(4) },
    };
  } finally {
    await Promise.all(fixtures.map((f) => f.close()));
    await cleanupRun(client, run, namespace, template);
  }
}

/** One list a little short of what the rubric asks (two risks or recommendations where it wants three): about 96% of the full answer's score. */
function slimmer(value: unknown): unknown {
  const o = value as { risks?: unknown[]; recommendations?: unknown[] };
  return o.recommendations ? { ...o, recommendations: o.recommendations.slice(0, 2) } : { ...o, risks: o.risks?.slice(0, 2) };
}

/** Every list cut to its first `n` items: a less thorough answer, still valid. */
function trim(value: unknown, n: number): unknown {
  if (Array.isArray(value)) return value.slice(0, n).map((v) => trim(v, n));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, trim(v, n)]));
  return value;
}

/** Every text replaced by words about no startup in particular, and no sources: valid, and vague. */
function generic(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(generic);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'sources' ? [] : generic(v)]));
  return typeof value === 'string' ? 'A general point that applies to any business.' : value;
}

// Another seed, another world and other draws: BENCH_SEED=7 npm run bench:routing.
const phase1 = simulation(Number(process.env.BENCH_SEED ?? 0));
const phase2 = await operatorPhase();
console.log(JSON.stringify({ bench: 'routing', simulation: phase1, operator: phase2 }));
if (!phase1.goalMet) process.exitCode = 1;
