/**
 * The long reliability runs of issue 10, behind `npm run soak` (too long for `npm test`),
 * against the cluster in KUBECONFIG (else the local control plane), the operator as its
 * own process (`startup-factory operator`, as in a pod), a mock provider answering every
 * call after a fixed latency. Each prints what it saw as a table and one JSON line, and
 * exits non-zero when a promise broke.
 *
 * --suite churn (default), --minutes 60, --every 20: a steady churn: a Startup applied every
 *   `every` seconds, each deleted once Succeeded. Every 10 s the operator's RSS, its
 *   informers' health and its start time (from its /metrics) and its live heap (after a
 *   full collection forced through the inspector). Holds when the heap is flat (the median
 *   live heap of the last fifth of the run within 20% of the second fifth's, once the
 *   caches are warm), no informer was ever unhealthy, the operator never restarted, and the
 *   run ends as it began: no Startup, namespace or ledger of its own left. Heap snapshots at
 *   the end of the second fifth and of the churn are left in the logs folder, and what grew
 *   between them, by constructor, is printed.
 * --suite crash, --startups 50, --kills 20: SIGKILL at random moments (2 to 8 s apart)
 *   while the Startups provision and run their pipelines, then: all converge to Succeeded
 *   (the time after the last kill is printed), no two attempts of a task overlap, every
 *   task's output is stored, every ledger's whole history holds (no window over its
 *   limit, nothing billed twice or without a reservation), and once deleted, no
 *   namespace is left behind.
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Startup } from '../../src/api/index.ts';
import { parseUsd } from '../../src/api/money.ts';
import { paths } from '../../cluster/paths.ts';
import { RUN_LABEL, applyAll, benchCluster, fmtS, freePort } from '../../bench/_setup.ts';
import { AiFixture } from '../support/ai-fixture/server.ts';
import { validOutput } from '../support/ai-fixture/replies.ts';
import { LedgerWatch, auditLedger } from '../support/ledger-audit.ts';
import { pipelineProblems } from '../support/pipeline-audit.ts';
import { OperatorProcess } from '../support/operator-process.ts';
import { Inspector } from '../support/inspector.ts';
import { census, growth } from '../support/heap-summary.ts';

const { values: args } = parseArgs({
  options: {
    suite: { type: 'string', default: 'churn' },
    minutes: { type: 'string', default: '60' },
    every: { type: 'string', default: '20' },
    startups: { type: 'string', default: '50' },
    kills: { type: 'string', default: '20' },
    latency: { type: 'string', default: '1000' },
  },
});
if (args.suite !== 'churn' && args.suite !== 'crash') throw new Error(`--suite is churn or crash, not ${args.suite}`);

const run = `soak${Date.now().toString(36)}`;
const { client, template } = await benchCluster(run);
const namespace = `sf-soak-${run}`;
const provider = `${run}-mock`;
const mock = new AiFixture({ apiKey: 'sk-soak', reply: validOutput, latencyMs: Number(args.latency) });
await mock.start();
const metricsPort = await freePort();
const inspectPort = await freePort();
const problems: string[] = [];

await applyAll(client, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
await applyAll(client, [
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${run}-key`, namespace }, stringData: { 'api-key': 'sk-soak' } },
  {
    apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider', metadata: { name: provider, labels: { [RUN_LABEL]: run } },
    spec: { type: 'openai', model: 'mock', baseURL: `${mock.url}/v1`, secretRef: { name: `${run}-key` }, pricing: { inputPerMillionTokens: '2.50', outputPerMillionTokens: '10.00' }, maxConcurrency: 100 },
  },
]);

const operator = new OperatorProcess({
  flags: [
    '--namespace', namespace, '--metrics-port', String(metricsPort), '--dashboard-port', '0', '--bind-address', '127.0.0.1',
    '--startup-selector', `${RUN_LABEL}=${run}`, '--max-active-startups', args.startups!, '--capacity-cpu', '1000', '--capacity-memory', '1Ti',
    // A killed leader's Lease would hold its successor back for its whole duration; the churn keeps the election.
    ...(args.suite === 'crash' ? ['--leader-elect=false'] : []),
  ],
  gatewayPort: await freePort(),
  logFile: join(paths.logs, `soak-${run}-operator.log`),
  // The churn forces collections through the inspector, so that the heap it samples is the live set.
  nodeArgs: args.suite === 'churn' ? [`--inspect=127.0.0.1:${inspectPort}`] : [],
});

const manifest = (name: string) => ({
  apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', metadata: { name, labels: { [RUN_LABEL]: run } },
  spec: { displayName: name, template, industry: 'fintech', ai: { providers: [provider] } },
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const listStartups = async () => (await client.list<Startup>('startupfactory.dev/v1alpha1', 'Startup', { labelSelector: `${RUN_LABEL}=${run}` })).items;
const namespacesLeft = async (names: readonly string[]) => {
  const { items } = await client.list('v1', 'Namespace');
  const wanted = new Set(names.map((n) => `startup-${n}`));
  return items.filter((n) => wanted.has(n.metadata.name!)).map((n) => n.metadata.name!);
};

/** The operator's own figures, from its /metrics. */
async function scrape(): Promise<{ rssMiB: number; heapMiB: number; cacheMiB: number; unhealthy: string[]; startedAt: number }> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const unhealthy = [...text.matchAll(/^startup_factory_informer_healthy\{([^}]*)\} 0$/gm)].map((m) => m[1]!);
  return { rssMiB: value('process_resident_memory_bytes') / 2 ** 20, heapMiB: value('nodejs_heap_size_used_bytes') / 2 ** 20, cacheMiB: value('startup_factory_ai_cache_bytes') / 2 ** 20, unhealthy, startedAt: value('process_start_time_seconds') };
}

/** Deletes the Startups and waits for their namespaces to go: the time it took. */
async function deleteAll(names: readonly string[]): Promise<number> {
  const t = performance.now();
  await Promise.all(names.map((n) => client.delete({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', name: n })));
  for (let left = await namespacesLeft(names); left.length > 0; left = await namespacesLeft(names)) {
    if (performance.now() - t > 600_000) {
      problems.push(`${left.length} namespaces still there 10 min after their Startups were deleted: ${left.slice(0, 5).join(', ')}`);
      break;
    }
    await sleep(1000);
  }
  return performance.now() - t;
}

async function crash(): Promise<Record<string, unknown>> {
  const n = Number(args.startups);
  const kills = Number(args.kills);
  const names = Array.from({ length: n }, (_, i) => `${run}-${i}`);
  const ledgers = await LedgerWatch.start(client, namespace);
  await operator.start();
  const applied = performance.now();
  await applyAll(client, names.map(manifest));
  for (let k = 0; k < kills; k++) {
    await sleep(randomInt(2000, 8000));
    await operator.kill();
    await sleep(randomInt(100, 1000));
    await operator.start();
    process.stdout.write(`kill ${k + 1}/${kills} at ${fmtS(performance.now() - applied)}\n`);
  }
  const lastKill = performance.now();
  let startups: Startup[] = [];
  for (;;) {
    startups = await listStartups();
    const done = startups.filter((s) => s.status?.phase === 'Succeeded' || s.status?.phase === 'Failed');
    if (done.length === n) break;
    if (performance.now() - lastKill > 1_800_000) {
      problems.push(`${n - done.length} Startups not done 30 min after the last kill`);
      break;
    }
    await sleep(1000);
  }
  const converged = performance.now() - lastKill;
  for (const s of startups) {
    if (s.status?.phase !== 'Succeeded') problems.push(`${s.metadata.name}: ${s.status?.phase} (${JSON.stringify(s.status?.tasks?.filter((t) => t.phase !== 'Succeeded'))})`);
    problems.push(...await pipelineProblems(client, s));
  }
  // At rest, every ledger's history from its first write: what a budget promises held at every step.
  await sleep(5000);
  await ledgers.stop();
  if (ledgers.gaps > 0) problems.push(`the ledger watch missed versions ${ledgers.gaps} times: the audit is incomplete`);
  let billed = 0;
  let costMicros = 0;
  for (const s of startups) {
    const quota = s.spec.ai?.quota;
    const limits = { callsPerHour: quota?.callsPerHour ?? Infinity, costPerDayMicros: quota?.costPerDay ? parseUsd(quota.costPerDay) : Infinity };
    for (const p of auditLedger(ledgers.history(s.metadata.name), limits)) problems.push(`${s.metadata.name} ledger: ${p}`);
    billed += ledgers.latest(s.metadata.name)?.totals.calls ?? 0;
    costMicros += ledgers.latest(s.metadata.name)?.totals.costMicros ?? 0;
  }
  const deleted = await deleteAll(names);
  await operator.stop();
  console.log(`crash: ${n} Startups, ${operator.kills} SIGKILLs in ${fmtS(lastKill - applied)}`);
  console.log(`  converged ${fmtS(converged)} after the last kill; ${startups.filter((s) => s.status?.phase === 'Succeeded').length}/${n} Succeeded`);
  console.log(`  upstream calls ${mock.requests.length}, billed ${billed} (the excess: calls cut by a kill and spares a successor charged in full), ${(costMicros / 1e6).toFixed(6)} USD`);
  console.log(`  deleted all in ${fmtS(deleted)}`);
  return { suite: 'crash', startups: n, kills: operator.kills, convergedAfterLastKillMs: Math.round(converged), upstreamCalls: mock.requests.length, billedCalls: billed, deleteAllMs: Math.round(deleted) };
}

async function churn(): Promise<Record<string, unknown>> {
  const until = performance.now() + Number(args.minutes) * 60_000;
  const every = Number(args.every) * 1000;
  await operator.start();
  const inspector = await Inspector.connect(inspectPort);
  const sample = async () => ({ ...await scrape(), heapMiB: await inspector.liveHeap() / 2 ** 20 });
  const expected = Math.max(5, Math.floor(Number(args.minutes) * 6));
  const fifth = Math.floor(expected / 5);
  const snapshots = { warm: join(paths.logs, `soak-${run}-warm.heapsnapshot`), end: join(paths.logs, `soak-${run}-end.heapsnapshot`) };
  const samples: Awaited<ReturnType<typeof sample>>[] = [];
  const names: string[] = [];
  let deleted = 0;
  let nextApply = performance.now();
  let nextSample = performance.now();
  while (performance.now() < until) {
    if (performance.now() >= nextApply) {
      const name = `${run}-${names.length}`;
      names.push(name);
      await applyAll(client, [manifest(name)]);
      nextApply += every;
    }
    if (performance.now() >= nextSample) {
      const s = await sample();
      samples.push(s);
      if (samples.length === 2 * fifth) await inspector.snapshot(snapshots.warm);
      for (const u of s.unhealthy) problems.push(`at ${fmtS(performance.now() - (until - Number(args.minutes) * 60_000))}: informer unhealthy ${u}`);
      nextSample += 10_000;
    }
    for (const s of await listStartups()) {
      if (s.status?.phase === 'Failed') problems.push(`${s.metadata.name}: Failed (${JSON.stringify(s.status.tasks?.filter((t) => t.phase !== 'Succeeded'))})`);
      if ((s.status?.phase !== 'Succeeded' && s.status?.phase !== 'Failed') || s.metadata.deletionTimestamp) continue;
      problems.push(...await pipelineProblems(client, s));
      await client.delete({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', name: s.metadata.name });
      deleted++;
    }
    await sleep(1000);
  }
  await inspector.snapshot(snapshots.end);
  // The last ones finish, then everything goes.
  for (let left = await listStartups(); left.some((s) => s.status?.phase !== 'Succeeded' && s.status?.phase !== 'Failed'); left = await listStartups()) await sleep(1000);
  const drained = await deleteAll((await listStartups()).map((s) => s.metadata.name));
  const final = await sample();
  inspector.close();
  await operator.stop();
  const leftover = {
    startups: (await listStartups()).length,
    namespaces: (await namespacesLeft(names)).length,
    ledgers: (await client.list('v1', 'ConfigMap', { namespace, labelSelector: 'startupfactory.dev/ledger=true' })).items.length,
  };
  if (leftover.startups + leftover.namespaces + leftover.ledgers > 0) problems.push(`left behind: ${JSON.stringify(leftover)}`);
  if (samples.some((s) => s.startedAt !== samples[0]!.startedAt) || final.startedAt !== samples[0]!.startedAt) problems.push('the operator restarted');
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const warm = median(samples.slice(fifth, 2 * fifth).map((s) => s.heapMiB));
  const end = median(samples.slice(-fifth).map((s) => s.heapMiB));
  if (end > warm * 1.2) problems.push(`the live heap grew: ${warm.toFixed(1)} MiB in the second fifth, ${end.toFixed(1)} MiB in the last`);
  const grew = growth(census(snapshots.warm), census(snapshots.end));
  console.log(`churn: ${args.minutes} min, a Startup every ${args.every} s: ${names.length} applied, ${deleted} deleted as they finished, ${mock.requests.length} model calls`);
  console.log(`  live heap ${samples[0]!.heapMiB.toFixed(1)} MiB at the start, median ${warm.toFixed(1)} MiB in the second fifth -> ${end.toFixed(1)} MiB in the last, ${final.heapMiB.toFixed(1)} MiB once all were deleted; RSS ${median(samples.map((s) => s.rssMiB)).toFixed(0)} MiB median, ${Math.max(...samples.map((s) => s.rssMiB)).toFixed(0)} max`);
  // The response cache's answers are Buffers, outside the JS heap: "(native)" grows with it, up to --cache-max-bytes.
  console.log(`  grew most from the second fifth to the end (${snapshots.warm}, ${snapshots.end}); the response cache ${samples[2 * fifth - 1]!.cacheMiB.toFixed(1)} -> ${samples.at(-1)!.cacheMiB.toFixed(1)} MiB meanwhile:`);
  for (const g of grew) console.log(`    ${(g.bytes / 1024).toFixed(0).padStart(8)} KiB ${String(g.count).padStart(8)} objects  ${g.name}`);
  console.log(`  ${samples.length} samples, ${samples.filter((s) => s.unhealthy.length > 0).length} with an unhealthy informer; left at the end ${JSON.stringify(leftover)}; last ones deleted in ${fmtS(drained)}`);
  return { suite: 'churn', minutes: Number(args.minutes), applied: names.length, calls: mock.requests.length, heapWarmMiB: Number(warm.toFixed(1)), heapEndMiB: Number(end.toFixed(1)), heapDrainedMiB: Number(final.heapMiB.toFixed(1)), rssMaxMiB: Math.round(Math.max(...samples.map((s) => s.rssMiB))), leftover };
}

try {
  const figures = args.suite === 'crash' ? await crash() : await churn();
  for (const p of problems) console.log(`  BROKEN: ${p}`);
  console.log(JSON.stringify({ ...figures, problems: problems.length }));
  process.exitCode = problems.length === 0 ? 0 : 1;
} finally {
  await operator.stop().catch(() => undefined);
  await mock.close();
  const { items } = await client.list('startupfactory.dev/v1alpha1', 'AIProvider', { labelSelector: `${RUN_LABEL}=${run}` });
  await Promise.all(items.map((o) => client.delete({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name! })));
  await client.delete({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
  await client.delete({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'StartupTemplate', name: template });
}
