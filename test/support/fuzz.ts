/**
 * A seeded generator of invalid Startup, AIProvider and StartupTemplate manifests, for the
 * fuzzing suite (test/integration/api/fuzz.test.ts). Each case starts from a valid
 * manifest with every field set and breaks it in one way, knowing the field path it
 * breaks: the API server's refusal must name that path, or, for what only the operator
 * can judge, the object must surface a condition with a reason.
 *
 * Most mutations come from walking the CRDs' own schemas (every typed node, bound, enum,
 * pattern, strict object and required field), so a field added later is fuzzed too. The
 * rest are what a schema walk cannot see: the CEL rules (money, quantities, references
 * between tasks, fields that need each other), metadata names, immutable fields, and the
 * operator's own judgement (cycles, template values, keys, templates that do not render).
 */
import { KINDS, crdFor } from '../../src/api/crds.ts';
import { USD_DECIMAL } from '../../src/api/money.ts';
import { mulberry32, type Rng } from '../../src/lib/random.ts';

export const FUZZ_KINDS = ['Startup', 'AIProvider', 'StartupTemplate'] as const;
export type FuzzKind = (typeof FUZZ_KINDS)[number];

/** How many cases of each kind `generateFuzzCases` makes: 500 in all. */
export const FUZZ_QUOTA: Record<FuzzKind, number> = { Startup: 230, AIProvider: 120, StartupTemplate: 150 };

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; namespace?: string };
  [field: string]: unknown;
};

/**
 * Who refuses the case: the API server (a 400 or 422 whose message names `path`, and
 * `message` when the rule has one), or the operator, through a condition of the object.
 */
export type Verdict =
  | { by: 'api'; path: string; message?: string }
  | { by: 'operator'; condition: 'Stalled' | 'Reconciling'; status: 'True'; reason: string; message?: string };

export type FuzzCase = {
  /** Unique among the cases, e.g. `s17` (the 17th Startup drawn) or `o3` (the 3rd the operator judges). */
  id: string;
  kind: FuzzKind;
  mutation: string;
  /** The mutation as a person would say it, e.g. `spec.priority = 1000001`. */
  what: string;
  /** The object sent: created, or with `patch`, created valid first and then changed by that merge patch. */
  manifest: Manifest;
  patch?: Record<string, unknown>;
  expect: Verdict;
};

export type FuzzContext = {
  /** Starts every object name, so runs never share one: a DNS label of at most 20 characters. */
  prefix: string;
  /** Put on every object, so the test's operator manages them and cleanup finds them. */
  labels: Record<string, string>;
  /** A valid StartupTemplate (the built-in reactnext under another name): the base Startup's. */
  template: string;
  /** Where the operator reads provider keys. */
  operatorNamespace: string;
  /** Size of the operator's node port pool, so a Startup can ask for one port more than it holds. */
  nodePorts: number;
};

export type FuzzSet = {
  cases: FuzzCase[];
  /** Objects the cases need in the cluster first: a key Secret, the Startup whose template a patch changes. */
  fixtures: Manifest[];
};

type Segment = string | number;
type Json = unknown;
type Obj = Record<string, Json>;

/** A CRD schema node, as much of it as the walk reads. */
type Node = {
  type?: string;
  properties?: Record<string, Node>;
  items?: Node;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-validations'?: { rule: string }[];
};

type Broken = { manifest: Manifest; what: string; path: string; message?: string; mutation?: string };

/** One way to break a kind: `make` breaks a copy of the valid manifest, with its own random choices. */
type Mutator = {
  mutation: string;
  /** A payload of a megabyte or so: drawn once, however many cases are made. */
  once?: boolean;
  make(rng: Rng, base: Manifest): Broken | undefined;
};

const API_VERSION = 'startupfactory.dev/v1alpha1';
const MONEY_MESSAGE = 'must be a non-negative decimal amount of USD';
const QUANTITY_MESSAGE = 'must be a positive Kubernetes quantity';

export function generateFuzzCases(seed: number, ctx: FuzzContext): FuzzSet {
  const rng = mulberry32(seed);
  const fixtures: Manifest[] = [];
  const cases: FuzzCase[] = [];
  const fixed = fixedCases(ctx, fixtures);
  for (const kind of FUZZ_KINDS) {
    const base = baseManifest(kind, ctx);
    const own = fixed.filter((c) => c.kind === kind);
    const drawn = draw(rng, base, mutatorsFor(kind, base), FUZZ_QUOTA[kind] - own.length);
    const letter = { Startup: 's', AIProvider: 'p', StartupTemplate: 't' }[kind];
    drawn.forEach((broken, i) => {
      const id = `${letter}${i}`;
      // A case that breaks the name keeps its broken name; the others get one of their own.
      const name = broken.manifest.metadata.name === BASE_NAME ? `${ctx.prefix}-${id}` : broken.manifest.metadata.name;
      const manifest = { ...broken.manifest, metadata: { ...broken.manifest.metadata, name } };
      cases.push({
        id,
        kind,
        mutation: broken.mutation,
        what: broken.what,
        manifest,
        expect: { by: 'api', path: broken.path, ...(broken.message ? { message: broken.message } : {}) },
      });
    });
    cases.push(...own);
  }
  return { cases, fixtures };
}

/** Cases per kind and mutation, for the suite to print. */
export function mutationMix(cases: readonly FuzzCase[]): Map<string, Record<FuzzKind, number>> {
  const mix = new Map<string, Record<FuzzKind, number>>();
  for (const c of cases) {
    const row = mix.get(c.mutation) ?? { Startup: 0, AIProvider: 0, StartupTemplate: 0 };
    row[c.kind]++;
    mix.set(c.mutation, row);
  }
  return new Map([...mix].sort(([a], [b]) => a.localeCompare(b)));
}

/** `['spec', 'services', 0, 'port']` → `spec.services[0].port`, as the API server names fields. */
export function apiPath(segments: readonly PropertyKey[]): string {
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : `${i === 0 ? '' : '.'}${String(s)}`)).join('');
}

// ---------------------------------------------------------------------------------------
// Drawing

/**
 * Every mutator once (in a shuffled order), then draws spread over the mutations: a
 * mutation first, uniformly, then one of its mutators, so the ones the schema walk makes
 * by the dozen (wrong types) do not crowd out the rest. A manifest already drawn is drawn
 * again, a few times at most, until it differs.
 */
function draw(rng: Rng, base: Manifest, mutators: Mutator[], count: number): (Broken & { mutation: string })[] {
  const out: (Broken & { mutation: string })[] = [];
  const seen = new Set<string>();
  const used = new Set<Mutator>();
  const take = (m: Mutator): boolean => {
    if (m.once && used.has(m)) return false;
    const broken = m.make(rng, base);
    if (!broken) return false;
    const key = JSON.stringify([broken.manifest, broken.what]);
    if (seen.has(key)) return false;
    seen.add(key);
    used.add(m);
    out.push({ ...broken, mutation: broken.mutation ?? m.mutation });
    return true;
  };
  for (const m of shuffle(rng, mutators)) {
    if (out.length >= count) break;
    for (let attempt = 0; attempt < 5 && !take(m); attempt++);
  }
  const families = [...new Set(mutators.map((m) => m.mutation))].sort();
  for (let attempts = 0; out.length < count; attempts++) {
    if (attempts > count * 50) throw new Error(`only ${out.length} distinct cases of ${base.kind} for ${count} wanted`);
    const family = pick(rng, families);
    take(pick(rng, mutators.filter((m) => m.mutation === family)));
  }
  return out;
}

function shuffle<T>(rng: Rng, list: readonly T[]): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function pick<T>(rng: Rng, list: readonly T[]): T {
  if (list.length === 0) throw new Error('pick from an empty list');
  return list[Math.floor(rng() * list.length)]!;
}

/** An integer in [lo, hi]. */
function between(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

// ---------------------------------------------------------------------------------------
// Valid manifests with every field set

/** The name a drawn case's object gets in place of this one. */
const BASE_NAME = 'fuzz-base';

const basePipeline = () => ({
  tasks: [
    { name: 'research', type: 'research', provider: 'offline', model: 'offline-v1', prompt: 'Research {{ displayName }}.' },
    { name: 'decompose', type: 'decompose', dependsOn: ['research'] },
    { name: 'codegen', type: 'codegen', dependsOn: ['decompose'], forEach: 'decompose' },
  ],
});

const baseServices = () => [{ name: 'frontend', port: 3000 }, { name: 'api', port: 8000 }];

function baseManifest(kind: FuzzKind, ctx: FuzzContext): Manifest {
  return { apiVersion: API_VERSION, kind, metadata: { name: BASE_NAME, labels: { ...ctx.labels } }, spec: baseSpec(kind, ctx) };
}

function baseSpec(kind: FuzzKind, ctx: FuzzContext): Obj {
  switch (kind) {
    case 'Startup':
      return {
        displayName: 'PayPilot',
        industry: 'fintech',
        category: 'payments',
        idea: 'Instant cross-border payouts for freelancers.',
        template: ctx.template,
        values: { tagline: 'Paid in minutes.', primaryColor: '#0f766e', postgresVersion: '18' },
        founder: { name: 'Amara Okafor', skills: ['payments'], experience: 'Eight years of payment rails.', goals: 'A thousand customers.' },
        resources: { memory: '256Mi', cpu: '250m', storage: '1Gi' },
        services: baseServices(),
        expose: 'ClusterIP',
        ai: { providers: ['offline'], routing: 'Ordered', quota: { callsPerHour: 100, costPerDay: '2.50' } },
        pipeline: basePipeline(),
        suspend: false,
        priority: 5,
      };
    case 'AIProvider':
      return {
        type: 'openai-compatible',
        model: 'sonar-pro',
        baseURL: 'https://api.perplexity.ai/v1',
        secretRef: { namespace: ctx.operatorNamespace, name: 'perplexity-api-key', key: 'api-key' },
        pricing: { inputPerMillionTokens: '3.00', outputPerMillionTokens: '15.00' },
        maxConcurrency: 4,
        timeoutSeconds: 120,
      };
    case 'StartupTemplate':
      return {
        description: 'Next.js frontend with a FastAPI backend',
        framework: 'nextjs',
        parameters: { type: 'object', properties: { tagline: { type: 'string', default: '' } } },
        services: baseServices(),
        resources: { memory: '512Mi', cpu: '500m', storage: '2Gi' },
        pipeline: basePipeline(),
        files: [{ path: 'README.md', content: '# {{ displayName }}' }, { path: 'public/favicon.ico', base64: 'AAABAA==' }],
      };
  }
}

/** The base manifests, valid as they are: the suite checks that the API server and zod agree. */
export function baseManifests(ctx: FuzzContext): Manifest[] {
  return FUZZ_KINDS.map((kind) => baseManifest(kind, ctx));
}

// ---------------------------------------------------------------------------------------
// Mutators

function mutatorsFor(kind: FuzzKind, base: Manifest): Mutator[] {
  const def = KINDS.find((k) => k.kind === kind)!;
  const crd = crdFor(def) as { spec: { versions: { schema: { openAPIV3Schema: Node } }[] } };
  const root = crd.spec.versions[0]!.schema.openAPIV3Schema;
  const out = [...schemaMutators(root.properties!.spec!, base), ...rootMutators(), ...nameMutators(kind)];
  if (kind !== 'AIProvider') out.push(...pipelineMutators(), ...serviceMutators());
  if (kind === 'Startup') out.push(...startupMutators());
  if (kind === 'AIProvider') out.push(...providerMutators());
  if (kind === 'StartupTemplate') out.push(...fileMutators());
  return out;
}

/** Sets `value` at `path` in a copy of `base` and says so. */
function setting(base: Manifest, path: Segment[], value: Json, extra: Partial<Broken> = {}): Broken {
  const manifest = structuredClone(base);
  setAt(manifest, path, value);
  return { manifest, what: `${apiPath(path)} = ${show(value)}`, path: apiPath(path), ...extra };
}

function setAt(target: Json, path: Segment[], value: Json): void {
  let node = target as Obj;
  for (const segment of path.slice(0, -1)) node = node[segment as string] as Obj;
  const last = path[path.length - 1]!;
  if (value === undefined) delete node[last as string];
  else node[last as string] = value;
}

function getAt(target: Json, path: Segment[]): Json {
  return path.reduce<Json>((node, segment) => (node as Obj | undefined)?.[segment as string], target);
}

/** A value short enough for a test title: long strings by their length. */
function show(value: Json): string {
  if (typeof value === 'string' && value.length > 40) return `${JSON.stringify(value.slice(0, 12))}… (${[...value].length} characters)`;
  if (Array.isArray(value) && value.length > 4) return `[${value.length} items]`;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

const WRONG: Record<string, Json[]> = {
  string: [42, -1, 1.5, true, false, {}, { a: 'b' }, [], ['x']],
  integer: ['5', '', '0x10', 1.5, 1e21, true, [], {}],
  boolean: ['true', 'false', 'yes', 0, 1, [], {}],
  array: ['x', 5, true, {}, { 0: 'x' }],
  object: ['x', 5, true, [], ['x']],
  intOrString: [true, false, 1.5, -0.5, {}, [], ['1Gi']],
};

/** Fields the walk can fill past their maximum with distinct items: the item at index i. */
const NTH_ITEM: Record<string, (i: number) => Json> = {
  'spec.founder.skills': (i) => `skill ${i}`,
  'spec.services': (i) => ({ name: `svc-${i}`, port: 1000 + i }),
  'spec.ai.providers': (i) => `provider-${i}`,
  'spec.pipeline.tasks': (i) => ({ name: `task-${i}`, type: 'research' }),
  'spec.files': (i) => ({ path: `src/file-${i}.txt`, content: `${i}` }),
};

/** Characters that are not in a DNS name, an enum or a number; several of them look as if they were. */
const UNICODE = ['é', 'а', 'ｒ', 'ß', 'ı', 'İ', '\u200b', '\u00a0', '🚀', '中', 'ﬁ', '\u0301'];
const ASCII_BREAKERS = ['_', ' ', '.', '/', '*', '\t', '\n', ':', '@', '%', '"', '-'];

/** Every node of the schema that the base manifest sets: its wrong types, bounds, sizes, enums, patterns and strictness. */
function schemaMutators(spec: Node, base: Manifest): Mutator[] {
  const out: Mutator[] = [];
  const visit = (node: Node, path: Segment[]) => {
    const value = getAt(base, path);
    if (value === undefined) return;
    out.push(...nodeMutators(node, path, value));
    for (const [name, child] of Object.entries(node.properties ?? {})) visit(child, [...path, name]);
    if (node.items && Array.isArray(value) && value.length > 0) visit(node.items, [...path, 0]);
  };
  visit(spec, ['spec']);
  return out;
}

function nodeMutators(node: Node, path: Segment[], value: Json): Mutator[] {
  const at = (mutation: string, make: Mutator['make'], once = false): Mutator => ({ mutation, make, ...(once ? { once } : {}) });
  const wrong = (key: string) => at('wrong-type', (rng, base) => setting(base, path, pick(rng, WRONG[key]!)));
  const out: Mutator[] = [];
  if (node['x-kubernetes-int-or-string']) return [wrong('intOrString'), ...quantityMutators(node, path)];
  switch (node.type) {
    case 'string':
      out.push(wrong('string'));
      if (node.enum) {
        out.push(at('bad-enum', (rng, base) => setting(base, path, badEnum(rng, node.enum as string[]))));
        break;
      }
      if (isMoney(node)) out.push(...moneyMutators(path));
      if (node.minLength) out.push(at('too-short', (_rng, base) => setting(base, path, '')));
      if (node.maxLength !== undefined) out.push(at('too-long', (rng, base) => tooLong(rng, base, node, path), node.maxLength > 100_000));
      if (node.pattern) {
        const pattern = new RegExp(node.pattern);
        const fits = (s: string) => !pattern.test(s) && s.length >= (node.minLength ?? 0) && s.length <= (node.maxLength ?? Infinity);
        out.push(at('bad-pattern', (rng, base) => {
          const variants = asciiVariants(rng, String(value)).filter(fits);
          return variants.length === 0 ? undefined : setting(base, path, pick(rng, variants));
        }));
        // Patterns that take any character (file paths) have no unicode to refuse.
        if (UNICODE.some((c) => fits(c.repeat(Math.max(1, node.minLength ?? 1))))) {
          out.push(at('unicode', (rng, base) => setting(base, path, unicodeVariant(rng, String(value), fits))));
        }
      }
      break;
    case 'integer':
      out.push(wrong('integer'));
      if (node.minimum !== undefined || node.maximum !== undefined) {
        out.push(at('out-of-bounds', (rng, base) => setting(base, path, outOfBounds(rng, node))));
      }
      break;
    case 'boolean':
      out.push(wrong('boolean'));
      break;
    case 'array': {
      out.push(wrong('array'));
      const nth = NTH_ITEM[apiPath(path.map((s) => (typeof s === 'number' ? 0 : s)))];
      if (node.maxItems !== undefined && nth) {
        out.push(at('too-many', (rng, base) => setting(base, path, Array.from({ length: node.maxItems! + between(rng, 1, 3) }, (_, i) => nth(i)))));
      }
      if (node.minItems) out.push(at('too-short', (_rng, base) => setting(base, path, [])));
      break;
    }
    case 'object':
      out.push(wrong('object'));
      if (!node['x-kubernetes-preserve-unknown-fields']) {
        const known = Object.keys(node.properties ?? {});
        out.push(at('unknown-field', (rng, base) => {
          const field = unknownField(rng, known);
          return { ...setting(base, [...path, field], pick(rng, ['x', 1, true, { a: 1 }, ['x']])), path: apiPath([...path, field]) };
        }));
      }
      for (const field of node.required ?? []) {
        out.push(at('missing-required', (_rng, base) => ({ ...setting(base, [...path, field], undefined), what: `${apiPath([...path, field])} left out` })));
      }
      break;
  }
  return out;
}

function badEnum(rng: Rng, values: string[]): string {
  const v = pick(rng, values);
  const candidates = [
    'Bogus', '', v.toLowerCase(), v.toUpperCase(), `${v} `, ` ${v}`, `${v}\u200b`, `${v}s`, v.slice(0, -1),
    v.replace(/[a-z]/, (c) => (c === 'a' ? 'а' : 'é')),
  ];
  return pick(rng, candidates.filter((c) => !values.includes(c)));
}

function outOfBounds(rng: Rng, node: Node): number {
  const candidates: number[] = [];
  if (node.minimum !== undefined) candidates.push(node.minimum - 1, node.minimum - between(rng, 2, 1000), -(2 ** 31), -(2 ** 53 - 1));
  if (node.maximum !== undefined) candidates.push(node.maximum + 1, node.maximum + between(rng, 2, 1_000_000), 2 ** 31, 2 ** 53 - 1);
  return pick(rng, candidates.filter((n) => (node.minimum !== undefined && n < node.minimum) || (node.maximum !== undefined && n > node.maximum)));
}

/**
 * One to a few characters past the maximum, counted as the API server counts them (in
 * characters): ASCII, or letters outside ASCII, or characters outside the BMP that
 * JavaScript counts twice. Fields with a pattern get a letter the pattern allows.
 */
function tooLong(rng: Rng, base: Manifest, node: Node, path: Segment[]): Broken {
  const max = node.maxLength!;
  const length = max + (max > 100_000 ? 1 : between(rng, 1, 3));
  // Megabytes of characters outside ASCII would pass the API server's request size limit first.
  const filler = node.pattern ? (new RegExp(node.pattern).test('a') ? 'a' : 'A') : max > 100_000 ? 'x' : pick(rng, ['x', 'é', '中', '🚀']);
  const broken = setting(base, path, filler.repeat(length));
  return /^[\x20-\x7e]$/.test(filler) ? broken : { ...broken, mutation: 'unicode' };
}

function asciiVariants(rng: Rng, value: string): string[] {
  const at = between(rng, 0, Math.max(0, value.length - 1));
  const breaker = pick(rng, ASCII_BREAKERS);
  return [
    value.toUpperCase(), value.charAt(0).toUpperCase() + value.slice(1), `-${value}`, `${value}-`, `.${value}`,
    `${value.slice(0, at)}${breaker}${value.slice(at)}`, `${value}${breaker}`, `${breaker}${value}`, `${value}\n`, `${value}//x`,
  ];
}

function unicodeVariant(rng: Rng, value: string, fits: (s: string) => boolean): string {
  for (let attempt = 0; attempt < 100; attempt++) {
    const char = pick(rng, UNICODE);
    const at = between(rng, 0, value.length);
    const replace = rng() < 0.5 && at < value.length;
    const variant = `${value.slice(0, at)}${char}${value.slice(replace ? at + 1 : at)}`;
    if (fits(variant)) return variant;
  }
  throw new Error(`no character outside ASCII breaks ${JSON.stringify(value)} within its bounds`);
}

function unknownField(rng: Rng, known: string[]): string {
  const base = known.length > 0 ? pick(rng, known) : 'field';
  const candidates = [
    base.charAt(0).toUpperCase() + base.slice(1), base.toLowerCase(), base.toUpperCase(),
    base.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), base.length > 2 ? base[1]! + base[0]! + base.slice(2) : `${base}x`,
    `${base}s`, `${base}é`, 'colour', 'extra', 'labels', 'status', 'metadata', 'replicas', 'x-custom', 'spec',
  ];
  return pick(rng, candidates.filter((c) => !known.includes(c)));
}

function isMoney(node: Node): boolean {
  return (node['x-kubernetes-validations'] ?? []).some((v) => v.rule.includes(USD_DECIMAL));
}

const BAD_MONEY: Json[] = [
  '1.5e3', '1e3', '-1', '-0', '-5.00', '0.0000001', '1,50', ' 1.00', '1.00 ', '1.', '.5', 'NaN', 'Infinity', '1234567890',
  '0x10', '', '１５.00', '$15', '15 USD', '+1', '1.000.000', '٣', '15.00\n', '1_000', 2.5, 15, 0,
];

function moneyMutators(path: Segment[]): Mutator[] {
  return [{
    mutation: 'bad-money',
    make: (rng, base) => {
      const value = pick(rng, BAD_MONEY);
      if (typeof value === 'string' && new RegExp(USD_DECIMAL).test(value)) throw new Error(`${value} is a valid amount`);
      return setting(base, path, value, typeof value === 'string' ? { message: MONEY_MESSAGE } : {});
    },
  }];
}

const BAD_QUANTITIES: Json[] = [
  '0', '-1', '-512Mi', '-0.5', 'lots', '1.5.5', '5Mii', '1 Mi', ' 1', '1 ', 'Mi', '1e', '0x10', '1MB', '1mi', '1GiB', '',
  '0.0', '0Mi', '1_000', '１Gi', 'Infinity', 'NaN', '1,5', '1/2', '½', 0, -1, -512,
  // Exponents the API server would spend minutes of CPU rounding, were they not refused first.
  '1e1000', '1e2147483647', '1e-2147483648', '1e99999999999', '5E1234Ki',
];

function quantityMutators(node: Node, path: Segment[]): Mutator[] {
  if (!(node['x-kubernetes-validations'] ?? []).some((v) => v.rule.includes('isQuantity'))) return [];
  return [
    { mutation: 'bad-quantity', make: (rng, base) => setting(base, path, pick(rng, BAD_QUANTITIES), { message: QUANTITY_MESSAGE }) },
    // A valid quantity, written out past the 32 characters the schema allows.
    { mutation: 'too-long', make: (rng, base) => setting(base, path, `${'0'.repeat(between(rng, 31, 40))}1Gi`) },
  ];
}

/** The whole object: an unknown top-level field, no spec at all. */
function rootMutators(): Mutator[] {
  return [
    {
      mutation: 'unknown-field',
      make: (rng, base) => {
        const field = pick(rng, ['Spec', 'specs', 'spec_', 'data', 'stringData', 'template']);
        return { ...setting(base, [field], { displayName: 'x' }), path: field };
      },
    },
    { mutation: 'missing-required', make: (_rng, base) => ({ ...setting(base, ['spec'], undefined), what: 'spec left out' }) },
  ];
}

/** metadata.name: the API server's own rules for every kind, and the Startup's (it names a namespace). */
function nameMutators(kind: FuzzKind): Mutator[] {
  const names = ['Upper-Case', 'under_score', 'ends-with-', '-starts', 'dot..dot', 'spaced name', 'ñame', 'имя', 'emoji-🚀', 'a'.repeat(254), '.hidden'];
  const out: Mutator[] = [{
    mutation: 'bad-name',
    make: (rng, base) => ({ ...setting(base, ['metadata', 'name'], pick(rng, names)), path: 'metadata.name' }),
  }];
  if (kind === 'Startup') {
    // Valid object names that cannot name the namespace startup-<name>.
    out.push({
      mutation: 'bad-name',
      make: (rng, base) => ({
        ...setting(base, ['metadata', 'name'], pick(rng, [`a${'b'.repeat(between(rng, 55, 60))}`, 'payments.fintech', 'a.b.c'])),
        path: 'metadata.name', message: 'metadata.name must be a lowercase RFC 1123 label',
      }),
    });
  }
  return out;
}

const ghost = (rng: Rng) => pick(rng, ['ghost', 'missing', 'review', 'research-2', 'codegen-0', 'decompose-x']);
const TASKS = ['spec', 'pipeline', 'tasks'] as const;

/** References between tasks (the CEL rules), duplicates, and more dependencies than allowed. */
function pipelineMutators(): Mutator[] {
  const tasks = (base: Manifest) => structuredClone(getAt(base, [...TASKS]) as Obj[]);
  const withTasks = (base: Manifest, list: Obj[], what: string, path: string, message?: string): Broken => ({
    ...setting(base, [...TASKS], list), what, path, ...(message ? { message } : {}),
  });
  return [
    {
      mutation: 'dangling-reference',
      make: (rng, base) => {
        const list = tasks(base);
        const i = between(rng, 0, list.length - 1);
        const missing = ghost(rng);
        list[i]!.dependsOn = [...((list[i]!.dependsOn as string[] | undefined) ?? []), missing];
        return withTasks(base, list, `tasks[${i}] depends on a task "${missing}" that does not exist`, apiPath([...TASKS]), 'every dependsOn must name a task of the same pipeline');
      },
    },
    {
      mutation: 'dangling-reference',
      make: (rng, base) => {
        const list = tasks(base);
        const missing = ghost(rng);
        list[2]!.forEach = missing;
        return withTasks(base, list, `tasks[2] fans out over "${missing}", in neither the pipeline nor its dependsOn`, apiPath([...TASKS, 2, 'forEach']), 'forEach must name a task listed in dependsOn');
      },
    },
    {
      mutation: 'dangling-reference',
      make: (rng, base) => {
        const list = tasks(base);
        const missing = ghost(rng);
        list[2]!.forEach = missing;
        list[2]!.dependsOn = [missing];
        return withTasks(base, list, `tasks[2] fans out over and depends on "${missing}", which does not exist`, apiPath([...TASKS]), 'every dependsOn must name a task of the same pipeline');
      },
    },
    {
      mutation: 'cross-field',
      make: (_rng, base) => {
        const list = tasks(base);
        list[2]!.forEach = 'research';
        return withTasks(base, list, 'tasks[2] fans out over research, a task it does not depend on', apiPath([...TASKS, 2, 'forEach']), 'forEach must name a task listed in dependsOn');
      },
    },
    {
      mutation: 'self-reference',
      make: (rng, base) => {
        const list = tasks(base);
        const i = between(rng, 0, list.length - 1);
        list[i]!.dependsOn = [...((list[i]!.dependsOn as string[] | undefined) ?? []), list[i]!.name as string];
        return withTasks(base, list, `tasks[${i}] depends on itself`, apiPath([...TASKS, i, 'dependsOn']), 'a task cannot depend on itself');
      },
    },
    {
      mutation: 'duplicate',
      make: (rng, base) => {
        const list = tasks(base);
        const i = between(rng, 1, list.length - 1);
        list[i] = { name: list[0]!.name, type: pick(rng, ['spec', 'review', 'research']) };
        return withTasks(base, list, `tasks[${i}] named ${String(list[0]!.name)} like tasks[0]`, apiPath([...TASKS]));
      },
    },
    {
      mutation: 'duplicate',
      make: (_rng, base) => {
        const list = tasks(base);
        list[2]!.dependsOn = ['decompose', 'decompose'];
        return withTasks(base, list, 'tasks[2] depends on decompose twice', apiPath([...TASKS, 2, 'dependsOn']));
      },
    },
    {
      mutation: 'too-many',
      make: (rng, base) => {
        const count = 17 + between(rng, 0, 3);
        const list: Obj[] = Array.from({ length: count }, (_, i) => ({ name: `dep-${i}`, type: 'research' }));
        list.push({ name: 'fan-in', type: 'review', dependsOn: list.map((t) => t.name) });
        return withTasks(base, list, `a task with ${count} dependencies`, apiPath([...TASKS, count, 'dependsOn']));
      },
    },
  ];
}

function serviceMutators(): Mutator[] {
  const path: Segment[] = ['spec', 'services'];
  return [
    {
      mutation: 'duplicate',
      make: (rng, base) => {
        const name = pick(rng, ['frontend', 'api']);
        return { ...setting(base, path, [{ name, port: 3000 }, { name, port: 3001 }]), what: `two services named ${name}`, path: 'spec.services' };
      },
    },
    {
      mutation: 'duplicate',
      make: (rng, base) => {
        const port = between(rng, 1, 65535);
        return {
          ...setting(base, path, [{ name: 'frontend', port }, { name: 'api', port }]),
          what: `two services on port ${port}`, path: 'spec.services', message: 'service ports must be unique',
        };
      },
    },
  ];
}

function startupMutators(): Mutator[] {
  return [
    {
      mutation: 'duplicate',
      make: (rng, base) => {
        const name = pick(rng, ['offline', 'openai', 'anthropic']);
        return { ...setting(base, ['spec', 'ai', 'providers'], [name, 'other', name]), path: 'spec.ai.providers' };
      },
    },
  ];
}

function providerMutators(): Mutator[] {
  const urls = [
    'ftp://models.example.com', 'not a url', 'file:///etc/passwd', 'javascript:alert(1)', '//api.example.com/v1', 'api.example.com',
    'http//api.example.com', 'https://exa mple.com', 'ws://api.example.com', 'mailto:ops@example.com', 'grpc://api.example.com:443',
    'http://', 'https://', 'https:/api.example.com', 'http:api.example.com', 'http:///v1', 'http://:8080', 'http://api.example.com:99999',
    'https://api.example.com/v1#models', 'http://api.example.com/%zz', 'http://api.example.com/v 1', 'http://ápi.example.com', 'http://api.example.com\n',
  ];
  return [
    { mutation: 'bad-url', make: (rng, base) => setting(base, ['spec', 'baseURL'], pick(rng, urls), { message: 'must be an http or https URL' }) },
    {
      mutation: 'cross-field',
      make: (_rng, base) => ({
        ...setting(base, ['spec', 'baseURL'], undefined), what: 'openai-compatible with no baseURL',
        path: 'spec.baseURL', message: 'baseURL is required for type openai-compatible',
      }),
    },
    {
      mutation: 'cross-field',
      make: (rng, base) => {
        const broken = setting(base, ['spec', 'secretRef'], undefined);
        const type = pick(rng, ['openai', 'anthropic', 'openai-compatible']);
        setAt(broken.manifest, ['spec', 'type'], type);
        return { ...broken, what: `type ${type} with no secretRef`, path: 'spec.secretRef', message: 'secretRef is required for every type but offline' };
      },
    },
  ];
}

function fileMutators(): Mutator[] {
  const files: Segment[] = ['spec', 'files'];
  const paths = [
    '../etc/passwd', 'src/../../x', 'a/./b', './a', 'a/.', '..', '.', '/abs/path', 'a//b', 'a/', 'a\\b', 'C:\\x', 'a\u0000b', 'a\nb', 'a\tb', 'a/\u001fb',
  ];
  const contentAndBase64 = (base: Manifest, file: Obj, what: string): Broken => ({
    ...setting(base, [...files, 0], file), what, path: 'spec.files[0]', message: 'exactly one of content or base64',
  });
  return [
    {
      mutation: 'bad-file',
      make: (rng, base) => {
        const path = pick(rng, paths);
        return setting(base, [...files, 0, 'path'], path);
      },
    },
    { mutation: 'cross-field', make: (_rng, base) => contentAndBase64(base, { path: 'a.txt', content: 'x', base64: 'eA==' }, 'a file with both content and base64') },
    { mutation: 'cross-field', make: (_rng, base) => contentAndBase64(base, { path: 'a.txt' }, 'a file with neither content nor base64') },
    {
      mutation: 'bad-file',
      make: (rng, base) => setting(base, [...files, 1, 'base64'], pick(rng, ['not base64!', '====', 'AA=A', 'é', 'AA==\n', 'data:image/png;base64,AA==', 'AA AA'])),
    },
    {
      mutation: 'duplicate',
      make: (_rng, base) => ({
        ...setting(base, files, [{ path: 'README.md', content: 'a' }, { path: 'README.md', content: 'b' }]),
        what: 'two files at README.md', path: 'spec.files',
      }),
    },
  ];
}

// ---------------------------------------------------------------------------------------
// What only the operator can judge, and changes to existing objects

/**
 * Cases whose manifests the API server accepts but the operator refuses, each with the
 * condition it must surface, and the immutable-field changes. The templates among them
 * are what some of the Startups use.
 */
function fixedCases(ctx: FuzzContext, fixtures: Manifest[]): FuzzCase[] {
  const out: FuzzCase[] = [];
  const add = (kind: FuzzKind, mutation: string, what: string, spec: Obj, expect: Verdict) => {
    const id = `o${out.length}`;
    const name = `${ctx.prefix}-${id}`;
    out.push({ id, kind, mutation, what, manifest: { apiVersion: API_VERSION, kind, metadata: { name, labels: { ...ctx.labels } }, spec }, expect });
    return name;
  };
  const stalled = (reason: string, message?: string): Verdict => ({ by: 'operator', condition: 'Stalled', status: 'True', reason, ...(message ? { message } : {}) });
  const startup = (extra: Obj): Obj => ({ displayName: 'Fuzzed', template: ctx.template, resources: { memory: '64Mi', cpu: '50m', storage: '100Mi' }, ...extra });
  const task = (name: string, dependsOn: string[] = []) => ({ name, type: 'research', dependsOn });
  const chain = (n: number) => Array.from({ length: n }, (_, i) => task(`t${i}`, [`t${(i + 1) % n}`]));

  const cycles: [string, Obj[]][] = [
    ['a two-task cycle', [task('a', ['b']), task('b', ['a'])]],
    ['a three-task cycle', [task('a', ['c']), task('b', ['a']), task('c', ['b'])]],
    ['an eight-task cycle', chain(8)],
    ['research depending on the codegen that fans out after it', [
      { name: 'research', type: 'research', dependsOn: ['codegen'] },
      { name: 'decompose', type: 'decompose', dependsOn: ['research'] },
      { name: 'codegen', type: 'codegen', dependsOn: ['decompose'], forEach: 'decompose' },
    ]],
    ['a cycle apart from a valid branch', [task('root'), task('leaf', ['root']), task('x', ['y', 'root']), task('y', ['x'])]],
  ];
  for (const [what, tasks] of cycles) {
    add('Startup', 'cycle', `pipeline with ${what}`, startup({ pipeline: { tasks } }), stalled('InvalidSpec', 'spec.pipeline.tasks'));
  }
  const values: [string, Obj, string][] = [
    ['tagline longer than its 120 characters', { tagline: 't'.repeat(121) }, 'parameter "tagline"'],
    ['tagline a number', { tagline: 42 }, 'parameter "tagline"'],
    ['primaryColor not a hex colour', { primaryColor: 'teal' }, 'parameter "primaryColor"'],
    ['primaryColor with a trailing newline', { primaryColor: '#0f766e\n' }, 'parameter "primaryColor"'],
    ['postgresVersion not one of 16, 17, 18', { postgresVersion: '15' }, 'parameter "postgresVersion" must be one of'],
    ['postgresVersion a number', { postgresVersion: 18 }, 'parameter "postgresVersion"'],
    ['a parameter the template does not have', { colour: 'blue' }, 'parameter "colour" is not a parameter of this template'],
  ];
  for (const [what, v, message] of values) {
    add('Startup', 'bad-values', `values: ${what}`, startup({ values: v }), stalled('InvalidValues', message));
  }
  for (const missing of [`${ctx.prefix}-no-such-template`, 'reactnext-v2']) {
    // A template may yet be applied: the Startup waits for it rather than stalling.
    add('Startup', 'missing-object', `template ${missing} that does not exist`, startup({ template: missing }),
      { by: 'operator', condition: 'Reconciling', status: 'True', reason: 'TemplateNotFound', message: missing });
  }
  add('Startup', 'bad-capacity', `NodePort for ${ctx.nodePorts + 1} services with ${ctx.nodePorts} node ports in the pool`,
    startup({ expose: 'NodePort', services: Array.from({ length: ctx.nodePorts + 1 }, (_, i) => ({ name: `svc-${i}`, port: 8000 + i })) }),
    stalled('NodePortsExhausted'));

  const template = (extra: Obj): Obj => ({ description: 'Fuzzed template', framework: 'nextjs', files: [{ path: 'README.md', content: '# {{ displayName }}' }], ...extra });
  const cyclic = add('StartupTemplate', 'cycle', 'pipeline with a two-task cycle', template({ pipeline: { tasks: [task('a', ['b']), task('b', ['a'])] } }),
    stalled('InvalidSpec', 'cycle'));
  add('StartupTemplate', 'cycle', 'pipeline with an eight-task cycle', template({ pipeline: { tasks: chain(8) } }), stalled('InvalidSpec', 'cycle'));
  const uncompilable = add('StartupTemplate', 'bad-template', 'parameters with a type JSON Schema does not have',
    template({ parameters: { type: 'object', properties: { tagline: { type: 'strin' } } } }), stalled('InvalidParameterSchema', 'does not compile'));
  add('StartupTemplate', 'bad-template', 'parameters with a negative minLength',
    template({ parameters: { type: 'object', properties: { tagline: { type: 'string', minLength: -1 } } } }), stalled('InvalidParameterSchema', 'does not compile'));
  add('StartupTemplate', 'bad-template', 'parameters of type array', template({ parameters: { type: 'array' } }), stalled('InvalidParameterSchema', 'type "object"'));
  add('StartupTemplate', 'bad-template', 'a required parameter with no default or example',
    template({ parameters: { type: 'object', required: ['region'], properties: { region: { type: 'string' } } } }), stalled('InvalidParameterSchema', 'parameter "region" is required'));
  const unrenderable = add('StartupTemplate', 'bad-template', 'a file with an unclosed Nunjucks tag',
    template({ files: [{ path: 'README.md', content: '{% if displayName %}unclosed' }] }), stalled('RenderFailed'));
  add('StartupTemplate', 'bad-template', 'a file using a filter that does not exist',
    template({ files: [{ path: 'README.md', content: '{{ displayName | nosuchfilter }}' }] }), stalled('RenderFailed'));
  add('Startup', 'bad-template', 'template that does not render', startup({ template: unrenderable }), stalled('RenderFailed'));
  add('Startup', 'bad-template', 'template whose pipeline has a cycle', startup({ template: cyclic }), stalled('TemplateInvalid', 'cycle'));
  add('Startup', 'bad-template', 'template whose parameters do not compile', startup({ template: uncompilable }), stalled('InvalidValues', 'does not compile'));

  const noKey = `${ctx.prefix}-no-key`;
  fixtures.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: noKey, namespace: ctx.operatorNamespace, labels: { ...ctx.labels } }, stringData: { token: 'x' } });
  const provider = (secretRef: Obj): Obj => ({ type: 'openai', model: 'gpt-4o', secretRef });
  add('AIProvider', 'missing-object', 'secretRef naming a Secret that does not exist', provider({ name: `${ctx.prefix}-no-secret` }), stalled('SecretNotFound'));
  add('AIProvider', 'missing-object', 'secretRef naming a Secret in the operator namespace that does not exist',
    provider({ namespace: ctx.operatorNamespace, name: `${ctx.prefix}-gone` }), stalled('SecretNotFound'));
  add('AIProvider', 'missing-object', 'secretRef naming a Secret without its key', provider({ name: noKey, key: 'api-key' }), stalled('KeyNotFound'));
  for (const namespace of ['kube-system', 'default']) {
    add('AIProvider', 'bad-reference', `secretRef in namespace ${namespace}, not the operator's`, provider({ namespace, name: 'anything' }), stalled('SecretNamespaceNotAllowed'));
  }

  // A transition rule needs an object to change: one valid Startup, patched by every case.
  const existing = `${ctx.prefix}-existing`;
  fixtures.push({ apiVersion: API_VERSION, kind: 'Startup', metadata: { name: existing, labels: { ...ctx.labels } }, spec: startup({}) });
  for (const template of ['vuenuxt', 'fluttermobile', 'reactnext', `${ctx.template}-2`, 'x']) {
    out.push({
      id: `o${out.length}`, kind: 'Startup', mutation: 'immutable', what: `spec.template changed to ${template} on an existing Startup`,
      manifest: fixtures.at(-1)!, patch: { spec: { template } },
      expect: { by: 'api', path: 'spec.template', message: 'spec.template is immutable' },
    });
  }
  return out;
}
