import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { getCondition } from '../../../src/api/conditions.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { KINDS, crdFor } from '../../../src/api/crds.ts';
import { ApiError } from '../../../src/kube/errors.ts';
import { Manager } from '../../../src/runtime/manager.ts';
import { uniqueName, waitFor } from '../../support/cluster.ts';
import { RUN_LABEL, startFactory, type TestFactory } from '../../support/factory.ts';
import { FUZZ_KINDS, baseManifests, generateFuzzCases, mutationMix, type FuzzCase, type FuzzContext } from '../../support/fuzz.ts';

/**
 * 500 invalid manifests (test/support/fuzz.ts): every one refused by the API server with
 * a message naming the field it breaks, or, for what only the operator can judge,
 * surfaced in a condition with a reason. Then a quiet window proves the operator neither
 * crashed nor spins on them. FUZZ_SEED replays another set.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const NODE_PORTS = { first: 30996, last: 30997 };
const QUIET_WINDOW_MS = 10_000;

// The cases are named before the factory starts, so each gets a test title of its own.
const names = { run: uniqueName('run'), namespace: uniqueName('sf-op'), template: uniqueName('tpl') };
const ctx: FuzzContext = {
  prefix: uniqueName('fz'), labels: { [RUN_LABEL]: names.run }, template: names.template,
  operatorNamespace: names.namespace, nodePorts: NODE_PORTS.last - NODE_PORTS.first + 1,
};
const set = generateFuzzCases(SEED, ctx);
const byApi = set.cases.filter((c) => c.expect.by === 'api');
const byOperator = set.cases.filter((c) => c.expect.by === 'operator');
const label = (c: FuzzCase) => `${c.id} ${c.kind} ${c.mutation}: ${c.what}`;
const QUERY = { dryRun: 'All', fieldValidation: 'Strict', fieldManager: 'startup-factory-fuzz' };

vi.setConfig({ maxConcurrency: 8 });

/**
 * Every controller the operator's manager makes, with a hook called as each reconcile
 * ends. The metric counts reconciles by controller only, and on a shared cluster this
 * operator also reconciles the keys of other files' Startups (their namespaces, Services
 * and Jobs carry the managed-by label its informers select): passes that find nothing of
 * theirs to do, which the quiet window must tell apart from passes over its own objects.
 */
const controllers: { name: string; observe?: (key: string) => void }[] = [];
const makeController = Manager.prototype.controller;
Manager.prototype.controller = function (this: Manager, o: Parameters<Manager['controller']>[0]) {
  const entry: (typeof controllers)[number] = { name: o.name };
  controllers.push(entry);
  return makeController.call(this, {
    ...o,
    reconcile: async (key, c) => {
      try {
        return await o.reconcile(key, c);
      } finally {
        entry.observe?.(key);
      }
    },
  });
};

let factory: TestFactory;
const started = Date.now();

beforeAll(async () => {
  // No Lease (its renewals are writes) and no resync in the quiet window (it looks at every object
  // again, on top of a waiting object's recheck); room for every Startup, but a node port pool too small for one.
  factory = await startFactory([
    '--leader-elect', 'false', '--resync-seconds', '3600', '--node-port-range', `${NODE_PORTS.first}-${NODE_PORTS.last}`,
    '--max-active-startups', '100', '--capacity-cpu', '64', '--capacity-memory', '128Gi',
  ], { names });
  const rows = [...mutationMix(set.cases)].map(([mutation, row]) => `  ${mutation.padEnd(20)}${FUZZ_KINDS.map((k) => String(row[k]).padStart(16)).join('')}`);
  console.log(`fuzz seed ${SEED}: ${set.cases.length} cases, ${byApi.length} for the API server, ${byOperator.length} for the operator\n`
    + `  ${'mutation'.padEnd(20)}${FUZZ_KINDS.map((k) => k.padStart(16)).join('')}\n${rows.join('\n')}`);
  for (const fixture of set.fixtures) await factory.client.create(fixture);
});
afterAll(async () => {
  Manager.prototype.controller = makeController;
  console.log(`fuzz file ran ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await factory?.cleanup();
});

type CrdSpec = { versions: { schema: unknown }[] };

/** Sends `c` with server-side dry run; resolves to the API server's refusal, or undefined when it accepted. */
async function dryRun(c: Pick<FuzzCase, 'manifest' | 'patch'>): Promise<ApiError | undefined> {
  const { client } = factory;
  const m = c.manifest;
  try {
    if (c.patch) {
      const path = await client.resourcePath(m.apiVersion, m.kind, undefined, m.metadata.name);
      await client.request('PATCH', path, { body: c.patch, contentType: 'application/merge-patch+json', query: QUERY });
    } else {
      await client.request('POST', await client.resourcePath(m.apiVersion, m.kind), { body: m, query: QUERY });
    }
    return undefined;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
}

describe('the API server', () => {
  beforeAll(async () => {
    // Some cases (four-digit exponents) would cost an API server with older CRDs minutes of CPU
    // each: none is sent unless it serves this checkout's (test/setup/cluster.ts installs them).
    for (const def of KINDS) {
      const name = `${def.plural}.startupfactory.dev`;
      const served = await factory.client.get<KubeObject & { spec: CrdSpec }>({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name });
      const ours = JSON.parse(JSON.stringify(crdFor(def))) as { spec: CrdSpec };
      expect(served.spec.versions[0]!.schema, `the API server serves the CRD ${name} of another checkout`).toEqual(ours.spec.versions[0]!.schema);
    }
  });

  it('accepts the manifests the cases start from', async () => {
    for (const base of baseManifests(ctx)) {
      const refusal = await dryRun({ manifest: { ...base, metadata: { ...base.metadata, name: `${ctx.prefix}-base` } } });
      expect(refusal?.message, `the base ${base.kind}`).toBeUndefined();
    }
  });

  it.concurrent.for(byApi.map((c) => ({ title: label(c), c })))('refuses $title, naming the field', async ({ c }, { expect }) => {
    const { path, message } = c.expect as { path: string; message?: string };
    const refusal = await dryRun(c);
    expect(refusal, `${label(c)}: accepted`).toBeDefined();
    expect([400, 422], `${label(c)}: ${refusal!.message}`).toContain(refusal!.code);
    expect(refusal!.message, `${label(c)}: the refusal must name ${path}`).toContain(path);
    if (message) expect(refusal!.message, `${label(c)}: the refusal must say why`).toContain(message);
  });
});

/** What the operator made of each case, listed at most once a second however many tests wait. */
let snapshot: { at: number; objects: Promise<Map<string, KubeObject>> } | undefined;
function observed(c: FuzzCase): Promise<KubeObject | undefined> {
  if (!snapshot || Date.now() - snapshot.at > 1000) {
    const objects = Promise.all(FUZZ_KINDS.map((kind) => factory.client.list<KubeObject>('startupfactory.dev/v1alpha1', kind, { labelSelector: `${RUN_LABEL}=${names.run}` })))
      .then((lists) => new Map(lists.flatMap((l) => l.items).map((o) => [`${o.kind}/${o.metadata.name}`, o])));
    snapshot = { at: Date.now(), objects };
  }
  return snapshot.objects.then((objects) => objects.get(`${c.kind}/${c.manifest.metadata.name}`));
}

type Judged = KubeObject & { status?: { conditions?: Parameters<typeof getCondition>[0]; observedGeneration?: number } };

describe('the operator', () => {
  const refusedCreates = new Map<string, string>();

  beforeAll(async () => {
    // Templates first, so the Startups that use them find them at once.
    const order = [...byOperator].sort((a, b) => Number(b.kind === 'StartupTemplate') - Number(a.kind === 'StartupTemplate'));
    for (const c of order) {
      await factory.client.create(c.manifest as KubeObject).catch((err: Error) => { refusedCreates.set(c.id, err.message); });
    }
  });

  it.concurrent.for(byOperator.map((c) => ({ title: label(c), c })))('surfaces $title in a condition with its reason', async ({ c }, { expect }) => {
    expect(refusedCreates.get(c.id), `${label(c)}: the API server refused it, so it belongs with the API server's cases`).toBeUndefined();
    const verdict = c.expect as Extract<FuzzCase['expect'], { by: 'operator' }>;
    const judged = await waitFor(`${label(c)}: ${verdict.condition} ${verdict.reason}`, async () => {
      const o = (await observed(c)) as Judged | undefined;
      const condition = getCondition(o?.status?.conditions, verdict.condition);
      return condition?.reason === verdict.reason && condition.observedGeneration === o!.metadata.generation && o;
    }, 90_000, 1000);
    const condition = getCondition(judged.status?.conditions, verdict.condition)!;
    expect(condition.status, label(c)).toBe(verdict.status);
    if (verdict.message) expect(condition.message, label(c)).toContain(verdict.message);
    expect(getCondition(judged.status?.conditions, 'Ready')?.status, `${label(c)}: Ready`).toBe('False');
  });
});

const MUTATING = new Set(['create', 'update', 'patch', 'apply', 'delete', 'deletecollection']);

/** The operator's reconciles by controller and its writes by verb, from its metrics registry. */
async function counters(): Promise<{ reconciles: Map<string, number>; writes: Map<string, number> }> {
  const { registry } = factory.operator.manager.metrics;
  const sum = async (metric: string, key: string, keep: (labels: Partial<Record<string, string | number>>) => boolean) => {
    const out = new Map<string, number>();
    for (const v of (await registry.getSingleMetric(metric)!.get()).values) {
      if (keep(v.labels)) out.set(String(v.labels[key]), (out.get(String(v.labels[key])) ?? 0) + v.value);
    }
    return out;
  };
  return {
    reconciles: await sum('startup_factory_reconcile_total', 'controller', () => true),
    // A dry run stores nothing: the DB Secret's check, sent again when the quota controller recounts a namespace's Secrets.
    writes: await sum('startup_factory_api_requests_total', 'verb', (labels) => MUTATING.has(String(labels.verb)) && labels.dry_run !== 'true'),
  };
}

function delta(after: Map<string, number>, before: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)]).filter(([, d]) => d !== 0));
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

type QuietWindow = {
  seconds: number;
  cpu: number;
  reconciles: Record<string, number>;
  writes: Record<string, number>;
  /** Reconciles of this file's objects, by `controller/key`. */
  ofMine: Record<string, number>;
  /** Reconciles of keys that are not this file's: other files' Startups, whose objects this operator's informers see too. */
  ofOthers: number;
  /** Other files' StartupTemplates that changed meanwhile: the operator judges every one, and writes its status. */
  disturbedBy: string[];
};

describe('after all of them', () => {
  const mine = new Set([names.template, ...set.fixtures.map((f) => f.metadata.name), ...byOperator.map((c) => c.manifest.metadata.name)]);
  let window: { reconciled: Map<string, number>; foreignTemplates: Set<string> } | undefined;

  async function quietWindow(): Promise<QuietWindow> {
    const before = await counters();
    window = { reconciled: new Map(), foreignTemplates: new Set() };
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, QUIET_WINDOW_MS));
    const used = process.cpuUsage(cpu);
    const seconds = (performance.now() - t0) / 1000;
    const after = await counters();
    const { reconciled, foreignTemplates } = window;
    window = undefined;
    const ofMine = Object.fromEntries([...reconciled].filter(([key]) => mine.has(key.slice(key.indexOf('/') + 1))));
    return {
      seconds, cpu: (used.user + used.system) / 1e6 / seconds,
      reconciles: delta(after.reconciles, before.reconciles), writes: delta(after.writes, before.writes),
      ofMine, ofOthers: total(Object.fromEntries(reconciled)) - total(ofMine), disturbedBy: [...foreignTemplates],
    };
  }

  it('the operator has not crashed and does not spin: over a quiet window it writes nothing, looks at each object at most once and idles', async () => {
    const { manager, startups } = factory.operator;
    for (const controller of controllers) {
      controller.observe = (key) => window?.reconciled.set(`${controller.name}/${key}`, (window.reconciled.get(`${controller.name}/${key}`) ?? 0) + 1);
    }
    const note = (t: KubeObject) => { if (window && !mine.has(t.metadata.name ?? '')) window.foreignTemplates.add(t.metadata.name ?? ''); };
    startups.templates.addHandlers({ add: note, update: (t, old) => { if (t !== old) note(t); }, delete: note });
    // What the cases set off is over once every case shows its verdict (above), the queue is empty and the Events are out.
    await waitFor('the Startup controller to drain its queue', async () => startups.controller.queue.len() === 0, 30_000);
    await manager.events.flush();

    // Another file's StartupTemplate arriving mid-window is work this operator must do: measure again.
    let quiet = await quietWindow();
    for (let attempt = 1; attempt < 3 && quiet.disturbedBy.length > 0; attempt++) quiet = await quietWindow();
    console.log(`quiet window: ${quiet.seconds.toFixed(1)} s, CPU ${(quiet.cpu * 100).toFixed(1)}% of a core, writes ${JSON.stringify(quiet.writes)}, `
      + `reconciles ${JSON.stringify(quiet.reconciles)} (${total(quiet.ofMine)} of this file's ${mine.size} objects: ${JSON.stringify(quiet.ofMine)}; ${quiet.ofOthers} of other files' Startups)`);
    expect(quiet.disturbedBy, 'StartupTemplates of other files changed in every window').toEqual([]);

    // The whole window in the message: CI keeps only the end of the output.
    expect(quiet.writes, `writes in the quiet window ${JSON.stringify(quiet)}`).toEqual({});
    // A waiting object is looked at again every 30 s (its Secret or template may appear): at most once in the window.
    for (const [key, count] of Object.entries(quiet.ofMine)) expect(count, `reconciles of ${key} in the quiet window`).toBe(1);
    expect(quiet.cpu, 'CPU share of one core in the quiet window').toBeLessThan(0.2);

    const port = manager.http.address()!.port;
    for (const probe of ['healthz', 'readyz']) {
      const res = await fetch(`http://127.0.0.1:${port}/${probe}`);
      expect(res.status, `/${probe}: ${await res.text()}`).toBe(200);
    }
  });
});
