import { createHash } from 'node:crypto';
import type { TaskType } from '../api/index.ts';
import { identifierOf, slugify } from '../templates/context.ts';
import { dependenciesOf, implementedWorkItem, type TaskInput, type WorkItem } from '../tasks/input.ts';
import type {
  AnalysisOutput, ArchitectureOutput, CodegenOutput, DecomposeOutput, ResearchOutput, ReviewOutput, SpecOutput, TaskOutput,
} from '../tasks/schemas.ts';

/*
 * The `offline` provider: no model, no network. It writes plausible, schema-valid
 * outputs from the startup's spec and the dependencies' outputs, so a pipeline (and
 * the export) can run end to end in a demo or a test. Everything it writes is marked
 * as demo content. Same input, same bytes: choices hash the startup's name, never the
 * clock or a random source.
 */

const DEMO = '[offline demo]';

/** The startup's facts, cleaned once: well-formed UTF-16, single spaces. */
function factsOf(input: TaskInput) {
  const clean = (text: string) => text.toWellFormed().replace(/\s+/g, ' ').trim();
  const s = input.startup;
  const name = clean(s.displayName) || s.name;
  const industry = clean(s.industry);
  const category = clean(s.category);
  const idea = clean(s.idea);
  return {
    seed: s.name,
    name,
    industry,
    category,
    idea,
    market: industry && category ? `${category} in ${industry}` : category || industry || 'its market',
    pitch: idea.match(/^.+?[.!?](\s|$)/)?.[0].trim() ?? (idea || `${name} builds software for ${industry || 'its customers'}.`),
    founder: {
      name: clean(s.founder.name) || 'The founder',
      skills: s.founder.skills.map(clean).filter(Boolean),
      experience: clean(s.founder.experience),
      goals: clean(s.founder.goals),
    },
    framework: s.template.framework,
  };
}

type Facts = ReturnType<typeof factsOf>;

/** One of the options, chosen by the startup's name: varied across startups, stable for one. */
function pick<T>(facts: Facts, salt: string, options: readonly [T, ...T[]]): T {
  const index = createHash('sha256').update(`${facts.seed}\n${salt}`).digest().readUInt32BE(0) % options.length;
  return options[index] ?? options[0];
}

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const searchUrl = (query: string) => `https://duckduckgo.com/?q=${encodeURIComponent(query)}`;

function research(input: TaskInput): ResearchOutput {
  const f = factsOf(input);
  return {
    summary: `${DEMO} Starting points for researching the market of ${f.name} (${f.market}), written from the startup's own description without consulting any source. The idea: ${f.idea || f.pitch}`,
    marketSize: {
      tam: `${DEMO} Not estimated offline: every organisation or person in ${f.market} with the problem ${f.name} solves, times what they spend on it a year.`,
      sam: `${DEMO} Not estimated offline: the part of that market the MVP can reach with its language, channels and regions.`,
      som: `${DEMO} Not estimated offline: the share of the reachable market ${f.name} can win in 3 to 5 years, typically a few percent.`,
      reasoning: `${DEMO} The offline provider has no market data; a research model fills in figures from industry reports, public filings and competitors' disclosures.`,
    },
    trends: [
      {
        trend: pick(f, 'trend', [`Software replaces manual work in ${f.market}`, `${capitalised(f.market)} moves from spreadsheets to dedicated tools`]),
        impact: `Tailwind: buyers already look for tools like ${f.name}.`,
      },
      { trend: 'AI assistants raise expectations of automation', impact: `Tailwind and threat: ${f.name} must automate the tedious parts, as general assistants will try to.` },
      { trend: 'Buyers consolidate their tools', impact: `Headwind for point solutions: ${f.name} needs integrations with the tools its customers keep.` },
    ],
    competitors: [
      {
        name: `Established ${f.industry || 'industry'} suites (kind of competitor)`,
        positioning: `Broad platforms sold to larger customers in ${f.market}.`,
        strengths: ['Brand, distribution and existing contracts', 'Wide feature set'],
        weaknesses: ['Slow to change', 'Expensive and complex for small teams'],
      },
      {
        name: 'Spreadsheets and manual processes (substitute)',
        positioning: 'What most customers do today.',
        strengths: ['Free and flexible', 'Already known'],
        weaknesses: ['Error-prone', 'Do not scale with the team'],
      },
      {
        name: `Specialised ${f.category || f.industry || 'niche'} start-ups (kind of competitor)`,
        positioning: `Focused products for the same customers as ${f.name}.`,
        strengths: ['Focused product', 'Modern user experience'],
        weaknesses: ['Small and unproven', 'Few integrations'],
      },
    ],
    customerSegments: [
      { segment: `Early adopters in ${f.market}`, needs: [`Save time on the work ${f.name} takes over`, 'Start without a sales call or a long contract'] },
      { segment: `Small and mid-sized ${f.industry || 'businesses'} teams`, needs: ['One place for the team\'s work', 'Predictable pricing'] },
    ],
    risks: [
      `Incumbents in ${f.market} add a similar feature`,
      'Customers do not switch from the tools they have',
      `Regulation or compliance requirements in ${f.industry || 'the industry'}`,
    ],
    sources: [
      { title: `${DEMO} Search: ${f.market} market size`, url: searchUrl(`${f.market} market size`) },
      { title: `${DEMO} Search: ${f.category || f.industry || f.name} competitors`, url: searchUrl(`${f.category || f.industry || f.name} competitors`) },
    ],
  };
}

/** Areas a founding team needs, and the words that show a skill covers one. */
const CORE_AREAS: [area: string, covered: RegExp][] = [
  ['engineering', /develop|engineer|cod(e|ing)|software|program|stack|backend|frontend/i],
  ['sales', /sales|selling|business dev|partnership/i],
  ['marketing', /marketing|growth|brand|content|seo/i],
  ['product design', /design|ux|ui|product/i],
];

function founderAnalysis(f: Facts): AnalysisOutput {
  const { founder } = f;
  const fromSkills = founder.skills.slice(0, 4).map((skill) => `${capitalised(skill)}, applied to ${f.market}`);
  const gaps = CORE_AREAS.filter(([, covered]) => !founder.skills.some((s) => covered.test(s))).map(([area]) => area);
  return {
    summary: `${DEMO} How ${founder.name}'s profile fits ${f.name}, judged from the founder profile alone: ${founder.skills.length} listed skills${gaps.length ? `, gaps in ${gaps.join(', ')}` : ', no gaps among the core areas'}.`,
    insights: [
      { title: 'Founder-market fit', detail: `${founder.name} brings ${founder.skills.join(', ') || 'no listed skills'} to ${f.market}.` },
      { title: 'Experience', detail: founder.experience || `No experience given: describe the track record relevant to ${f.name}.` },
      { title: 'Goals', detail: founder.goals || 'No goals given: agree on what success looks like in 12 months.' },
    ],
    strengths: fromSkills.length >= 2 ? fromSkills : [...fromSkills, `A concrete idea: ${f.pitch}`, `Ownership of ${f.name} from the first day`].slice(0, 2),
    risks: [
      ...gaps.map((area) => `No ${area} skills listed: find a co-founder, advisor or contractor`),
      'Key-person risk: the startup depends on one founder',
    ],
    recommendations: [
      `Interview ten potential customers in ${f.market} before building more`,
      gaps.length ? `Cover ${gaps[0]} first: it is the gap closest to the MVP` : 'Write down who does what, so nothing falls between founders',
      `Set a 90-day goal for ${f.name} and review it every two weeks`,
    ],
  };
}

function businessModel(input: TaskInput, f: Facts): AnalysisOutput {
  const market = dependenciesOf(input, 'research')[0]?.output;
  const founder = dependenciesOf(input, 'analysis')[0]?.output;
  const segment = market?.customerSegments[0]?.segment ?? `Teams in ${f.market}`;
  const rival = market?.competitors[0];
  const price = pick(f, 'price', ['29', '39', '49']);
  return {
    summary: `${DEMO} A business model for ${f.name} assembled from ${input.dependencies.map((d) => d.name).join(', ')}: a subscription for ${segment}, sold self-serve, at ${price} USD a seat a month.`,
    insights: [
      { title: `Who pays: ${segment}`, detail: `What they need: ${market?.customerSegments[0]?.needs.join('; ') || 'a faster way to do this work'}.` },
      { title: `Pricing: ${price} USD a seat a month`, detail: 'A free 14-day trial, then a monthly subscription; an annual plan at two months free.' },
      {
        title: `Positioning against ${rival?.name ?? 'incumbents'}`,
        detail: `Win where they are weak: ${rival?.weaknesses.join('; ') || 'price and ease of use'}.`,
      },
    ],
    strengths: [
      ...(founder?.strengths.slice(0, 2) ?? []),
      `Self-serve sales keep the cost of acquiring ${segment} low`,
      `A focused offer for ${f.market}`,
    ].slice(0, 3),
    risks: [...(market?.risks.slice(0, 2) ?? ['Customers do not switch from the tools they have']), ...(founder?.risks.slice(0, 1) ?? [])],
    recommendations: [
      `Charge from the first customer: ${price} USD a seat a month after the trial`,
      `Acquire ${segment} through communities and content they already follow`,
      ...(founder?.recommendations.slice(0, 1) ?? []),
      'Track trial-to-paid conversion weekly and adjust the price at 100 customers',
    ],
  };
}

function analysis(input: TaskInput): AnalysisOutput {
  const f = factsOf(input);
  return input.dependencies.length === 0 ? founderAnalysis(f) : businessModel(input, f);
}

/** The offline MVP: also the fallback of later tasks when their pipeline has no spec. */
function features(f: Facts, pricing: string): SpecOutput['features'] {
  return [
    {
      name: 'Sign-up and onboarding',
      description: `Create an account and reach the first useful result in ${f.name} within five minutes.`,
      priority: 'must',
      acceptanceCriteria: ['A visitor can sign up with an email address', 'A new account lands on a guided first step'],
    },
    {
      name: `${capitalised(f.category || f.industry || 'core')} workspace`,
      description: `The core of ${f.name}: ${f.pitch}`,
      priority: 'must',
      acceptanceCriteria: ['A user can create, list and update entries', 'Entries are private to their account'],
    },
    {
      name: 'Dashboard',
      description: 'Shows what happened since the last visit and what needs attention.',
      priority: 'should',
      acceptanceCriteria: ['The dashboard shows the latest entries', 'It loads in under a second for 1,000 entries'],
    },
    {
      name: 'Plans and billing',
      description: `Trial and subscription, following the business model: ${pricing}`,
      priority: 'should',
      acceptanceCriteria: ['A trial ends after 14 days', 'An account owner can subscribe and cancel'],
    },
  ];
}

function spec(input: TaskInput): SpecOutput {
  const f = factsOf(input);
  const model = dependenciesOf(input, 'analysis').at(-1)?.output;
  const pricing = model?.recommendations[0] ?? 'a monthly subscription after a free trial.';
  const mobile = f.framework === 'flutter';
  const mvp = features(f, pricing);
  return {
    productName: f.name,
    problem: `${DEMO} ${f.idea || `Teams in ${f.market} lack a simple tool for their daily work.`}`,
    solution: `${DEMO} ${f.name} is a ${mobile ? 'mobile app' : 'web app'} for ${f.market} built around its must-have features: ${mvp.filter((m) => m.priority === 'must').map((m) => m.name).join(', ')}. Pricing: ${pricing}`,
    personas: [
      {
        name: `Hands-on ${f.category || f.industry || 'team'} user`,
        description: `Someone in ${f.market} who does the work ${f.name} supports every day.`,
        goals: ['Finish the routine work faster', 'Know what needs attention'],
      },
      {
        name: 'Decision maker',
        description: `The owner or manager who chooses and pays for tools in ${f.market}.`,
        goals: ['See the value within the trial', 'Keep costs predictable'],
      },
    ],
    features: mvp,
    nonGoals: [mobile ? 'A web administration console' : 'Native mobile apps', 'Integrations beyond email', 'Languages other than English'],
    successMetrics: [
      { metric: 'Weekly active accounts', target: '50 within three months of launch' },
      { metric: 'Trial-to-paid conversion', target: '5% by the end of the first quarter' },
    ],
  };
}

/**
 * A page's slug: it names a route, files, a Python module and a Dart class, so it starts
 * with a letter and is no Python keyword; nor is it a name the scaffolds already use, so
 * no generated file lands on one of theirs.
 */
function pageSlug(text: string): string {
  const slug = slugify(text, 'feature');
  const named = /^[a-z]/.test(slug) ? slug : `page-${slug}`;
  return TAKEN_SLUGS.has(named) ? `${named}-page` : named;
}

const TAKEN_SLUGS = new Set([
  // Python keywords.
  'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except',
  'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass',
  'raise', 'return', 'try', 'while', 'with', 'yield',
  // The scaffolds' own: the frontends' api/ routes and health route, the Nuxt home page
  // (pages/index.vue), the API's /api/startup and its tests/test_health.py.
  'api', 'health', 'index', 'startup',
]);

const humanised = (slug: string) => capitalised(slug.replace(/-/g, ' '));

/** What a generated source file shows: all but the slug is text to escape for its language. */
type Page = { slug: string; title: string; description: string; criteria: string[]; startup: string; itemId: string };

/** A JavaScript, TypeScript or Python literal: JSON, with `<`, `>` and `&` escaped so it cannot close a `<script>` block. */
function literal(value: unknown): string {
  const json = JSON.stringify(value, (_, v: unknown) => (typeof v === 'string' ? v.toWellFormed() : v));
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A single-quoted Dart string: `$` would interpolate, so it is escaped with the quote and the backslash. */
function dartString(text: string): string {
  const escaped = text.toWellFormed()
    .replace(/[\\'$]/g, (c) => `\\${c}`)
    .replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
  return `'${escaped}'`;
}

const pascal = (slug: string) => slug.split('-').map(capitalised).join('');
const header = (page: Page) =>
  `// ${DEMO} Work item ${page.itemId}, written by Startup Factory's offline provider, not by a model.`;
const pageContent = (page: Page) =>
  literal({ title: page.title, startup: page.startup, description: page.description, criteria: page.criteria });

function fastapiRouter(page: Page): string {
  return `${literal(`${DEMO} ${page.title}: API of ${page.startup}, work item ${page.itemId}.`)}

from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter(prefix="/api/${page.slug}", tags=["${page.slug}"])


class NewEntry(BaseModel):
    title: str
    detail: str


class Entry(NewEntry):
    id: str


# Held in memory until the PostgreSQL table exists: the offline provider writes no migrations.
_entries: list[Entry] = [
    Entry(id="1", title=${literal(page.title)}, detail=${literal(page.description)}),
]


@router.get("")
def list_entries() -> list[Entry]:
    return _entries


@router.post("", status_code=201)
def create_entry(entry: NewEntry) -> Entry:
    created = Entry(id=str(len(_entries) + 1), **entry.model_dump())
    _entries.append(created)
    return created
`;
}

/** The router's tests: pytest collects them beside the scaffold's own, so `pytest` proves the router is mounted. */
function fastapiTest(page: Page): string {
  const path = literal(`/api/${page.slug}`);
  return `${literal(`${DEMO} Tests of ${page.title}: API of ${page.startup}, work item ${page.itemId}.`)}

from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_lists_the_seeded_entry() -> None:
    response = client.get(${path})
    assert response.status_code == 200
    assert response.json()[0] == {"id": "1", "title": ${literal(page.title)}, "detail": ${literal(page.description)}}


def test_creates_an_entry() -> None:
    response = client.post(${path}, json={"title": "A new entry", "detail": "Created by the test."})
    assert response.status_code == 201
    created = response.json()
    assert created["title"] == "A new entry"
    assert created in client.get(${path}).json()
`;
}

function nextPage(page: Page): string {
  return `${header(page)}
import type { Metadata } from 'next';

const content = ${pageContent(page)} as const;

export const metadata: Metadata = { title: [content.title, content.startup].join(' · ') };

type Entry = { id: string; title: string; detail: string };

async function entries(): Promise<Entry[]> {
  try {
    const response = await fetch(\`\${process.env.API_URL ?? 'http://localhost:8000'}/api/${page.slug}\`, { cache: 'no-store' });
    return response.ok ? ((await response.json()) as Entry[]) : [];
  } catch {
    return [];
  }
}

export default async function Page() {
  const list = await entries();
  return (
    <main className="main">
      <h1 className="title">{content.title}</h1>
      <p className="tagline">{content.description}</p>
      <h2>Done when</h2>
      <ul>
        {content.criteria.map((criterion, i) => <li key={i}>{criterion}</li>)}
      </ul>
      <h2>Entries</h2>
      {list.length === 0 ? <p>Nothing here yet.</p> : (
        <ul>
          {list.map((entry) => <li key={entry.id}><strong>{entry.title}</strong> {entry.detail}</li>)}
        </ul>
      )}
    </main>
  );
}
`;
}

function nuxtPage(page: Page): string {
  return `<script setup lang="ts">
${header(page)}
const content = ${pageContent(page)} as const;

type Entry = { id: string; title: string; detail: string };

const { data: entries } = await useFetch<Entry[]>('/api/${page.slug}', { default: () => [] });
useHead({ title: [content.title, content.startup].join(' · ') });
</script>

<template>
  <main class="main">
    <h1 class="title">{{ content.title }}</h1>
    <p class="tagline">{{ content.description }}</p>
    <h2>Done when</h2>
    <ul>
      <li v-for="(criterion, i) in content.criteria" :key="i">{{ criterion }}</li>
    </ul>
    <h2>Entries</h2>
    <p v-if="entries.length === 0">Nothing here yet.</p>
    <ul v-else>
      <li v-for="entry in entries" :key="entry.id"><strong>{{ entry.title }}</strong> {{ entry.detail }}</li>
    </ul>
  </main>
</template>
`;
}

function nuxtServerRoute(page: Page): string {
  return `${header(page)}
// The API's address is server-side configuration, so the page asks this route, which asks the API.
type Entry = { id: string; title: string; detail: string };

export default defineEventHandler(async (): Promise<Entry[]> => {
  const { apiUrl } = useRuntimeConfig();
  return await $fetch<Entry[]>(\`\${apiUrl}/api/${page.slug}\`);
});
`;
}

function flutterScreen(page: Page): string {
  return `${header(page)}
import 'package:flutter/material.dart';

class ${pascal(page.slug)}Screen extends StatelessWidget {
  const ${pascal(page.slug)}Screen({super.key});

  static const String title = ${dartString(page.title)};
  static const String description = ${dartString(page.description)};
  static const List<String> criteria = <String>[
${page.criteria.map((c) => `    ${dartString(c)},`).join('\n')}
  ];

  @override
  Widget build(BuildContext context) {
    final theme = Theme.of(context);
    return Scaffold(
      appBar: AppBar(title: const Text(title)),
      body: ListView(
        padding: const EdgeInsets.all(24),
        children: [
          Text(description, style: theme.textTheme.bodyLarge),
          const SizedBox(height: 24),
          Text('Done when', style: theme.textTheme.titleMedium),
          for (final criterion in criteria)
            ListTile(leading: const Icon(Icons.check_circle_outline), title: Text(criterion)),
        ],
      ),
    );
  }
}
`;
}

function markdownPage(page: Page): string {
  return `# ${page.title}

${DEMO} Work item ${page.itemId} of ${page.startup}, written by Startup Factory's offline provider, not by a model.

${page.description}

## Done when

${page.criteria.map((c) => `- ${c}`).join('\n')}
`;
}

type SourceFile = { path: string; write: (page: Page) => string };

/** What the offline provider knows of each scaffold: its parts, and where a page's code goes. */
type Stack = {
  components: ArchitectureOutput['components'];
  decisions: ArchitectureOutput['decisions'];
  layout: (slug: string) => SourceFile[];
  /** What a page's work item must do, as far as the offline code does it. */
  criteria: (route: string) => string[];
  notes: (slug: string) => string[];
};

const FASTAPI: ArchitectureOutput['components'] = [
  { name: 'API', kind: 'backend', technology: 'FastAPI (Python, pydantic models, typed settings)', responsibilities: ['Business logic', 'Validation', 'Authentication'] },
  { name: 'database', kind: 'database', technology: 'PostgreSQL', responsibilities: ['Accounts and entries', 'Transactions'] },
];

const webCriteria = (route: string) =>
  [`The ${route} page shows the title, the description and what done means`, 'The page lists the entries the API returns, or says there are none'];
/** The API half of a web page: its router, mounted by the scaffold's app/main.py (which includes every module of app/routes), and its tests. */
const apiFiles = (slug: string): SourceFile[] => [
  { path: `backend/app/routes/${identifierOf(slug)}.py`, write: fastapiRouter },
  { path: `backend/tests/test_${identifierOf(slug)}.py`, write: fastapiTest },
];

const STACKS: Record<string, Stack> = {
  nextjs: {
    components: [
      { name: 'web frontend', kind: 'frontend', technology: 'Next.js 16 (App Router, React 19, TypeScript)', responsibilities: ['Pages, rendered on the server', 'Calls the API from server components'] },
      ...FASTAPI,
    ],
    decisions: [
      { decision: 'Server components fetch from the API', rationale: 'No API address or token reaches the browser, and pages render complete.' },
      { decision: 'PostgreSQL is the one store', rationale: 'One database keeps the MVP simple to run, back up and reason about.' },
    ],
    layout: (slug) => [{ path: `frontend/app/${slug}/page.tsx`, write: nextPage }, ...apiFiles(slug)],
    criteria: webCriteria,
    notes: () => ['The page reads the API at API_URL (http://localhost:8000 when unset).'],
  },
  nuxt: {
    components: [
      { name: 'web frontend', kind: 'frontend', technology: 'Nuxt 4 (Vue 3, TypeScript)', responsibilities: ['Pages', 'Server routes that call the API'] },
      ...FASTAPI,
    ],
    decisions: [
      { decision: 'Pages call the API through Nuxt server routes', rationale: 'The API address stays server-side configuration (NUXT_API_URL).' },
      { decision: 'PostgreSQL is the one store', rationale: 'One database keeps the MVP simple to run, back up and reason about.' },
    ],
    layout: (slug) => [
      { path: `frontend/app/pages/${slug}.vue`, write: nuxtPage },
      { path: `frontend/server/api/${slug}.get.ts`, write: nuxtServerRoute },
      ...apiFiles(slug),
    ],
    criteria: webCriteria,
    notes: () => ['The page reads the API through its server route, at NUXT_API_URL (runtimeConfig.apiUrl of nuxt.config.ts when unset).'],
  },
  flutter: {
    components: [
      { name: 'mobile app', kind: 'frontend', technology: 'Flutter 3 (Dart 3, Material 3)', responsibilities: ['Screens', 'Offline-first local state'] },
      { name: 'Cloud Functions', kind: 'backend', technology: 'Cloud Functions for Firebase', responsibilities: ['Work that needs a server: billing, notifications'] },
      { name: 'Cloud Firestore', kind: 'database', technology: 'Cloud Firestore with security rules', responsibilities: ['Accounts and entries, readable only by their owner'] },
      { name: 'Firebase Authentication', kind: 'external', technology: 'Firebase Authentication', responsibilities: ['Sign-up and sign-in'] },
    ],
    decisions: [
      { decision: 'Firebase instead of a custom backend', rationale: 'Authentication, data and functions without servers to run for an MVP.' },
      { decision: 'Security rules scope every document to its owner', rationale: 'The app talks to Firestore directly, so the rules are the access control.' },
    ],
    layout: (slug) => [{ path: `lib/screens/${identifierOf(slug)}_screen.dart`, write: flutterScreen }],
    criteria: (route) => [`The ${route} screen shows the title, the description and what done means`, 'The screen builds without a network connection'],
    notes: (slug) => [`Add a route to ${pascal(slug)}Screen in lib/main.dart to reach the screen.`],
  },
};

const GENERIC: Stack = {
  components: [
    { name: 'frontend', kind: 'frontend', technology: 'The scaffold\'s frontend', responsibilities: ['Pages'] },
    { name: 'API', kind: 'backend', technology: 'HTTP API', responsibilities: ['Business logic'] },
    { name: 'database', kind: 'database', technology: 'PostgreSQL', responsibilities: ['Accounts and entries'] },
  ],
  decisions: [
    { decision: 'Describe each feature before building it', rationale: 'The offline provider does not know this scaffold, so it writes the plan as documents.' },
    { decision: 'PostgreSQL is the one store', rationale: 'One database keeps the MVP simple to run, back up and reason about.' },
  ],
  layout: (slug) => [{ path: `docs/features/${slug}.md`, write: markdownPage }],
  criteria: (route) => [`The document of ${route} says what the page does and what done means`],
  notes: () => ['Implement the feature in the scaffold\'s own layout.'],
};

const stackOf = (f: Facts) => STACKS[f.framework] ?? GENERIC;

function architecture(input: TaskInput): ArchitectureOutput {
  const f = factsOf(input);
  const stack = stackOf(f);
  const specFeatures = dependenciesOf(input, 'spec')[0]?.output.features ?? features(f, 'a monthly subscription.');
  const pages = specFeatures.slice(0, 6).map((feature) => ({ slug: pageSlug(feature.name), feature }));
  return {
    overview: `${DEMO} ${f.name} on the ${input.startup.template.name} scaffold: ${stack.components.map((c) => `${c.name} (${c.technology})`).join(', ')}. One page per feature of the specification, each with its own API resource.`,
    components: stack.components,
    dataModel: [
      { entity: 'account', fields: [{ name: 'id', type: 'uuid primary key' }, { name: 'email', type: 'text unique' }, { name: 'created_at', type: 'timestamptz' }] },
      ...pages.slice(0, 3).map(({ slug }) => ({
        entity: `${identifierOf(slug)}_entry`,
        fields: [
          { name: 'id', type: 'uuid primary key' },
          { name: 'account_id', type: 'reference to account' },
          { name: 'title', type: 'text' },
          { name: 'detail', type: 'text' },
          { name: 'created_at', type: 'timestamptz' },
        ],
      })),
    ],
    apiEndpoints: [
      { method: 'GET', path: '/health', description: 'Liveness of the API.' },
      ...pages.flatMap(({ slug, feature }) => [
        { method: 'GET' as const, path: `/api/${slug}`, description: `List the account's entries of ${feature.name}.` },
        { method: 'POST' as const, path: `/api/${slug}`, description: `Create an entry of ${feature.name}.` },
      ]),
    ],
    pages: pages.map(({ slug, feature }) => ({ route: `/${slug}`, purpose: `${feature.name}: ${feature.description}` })),
    decisions: stack.decisions,
  };
}

/** A model's decomposition may run to 16 items; the offline one keeps to 3 or 4. */
const OFFLINE_ITEMS = { min: 3, max: 4 };

function decompose(input: TaskInput): DecomposeOutput {
  const f = factsOf(input);
  const stack = stackOf(f);
  const design = dependenciesOf(input, 'architecture')[0]?.output ?? architecture(input);
  // One item per page, by slug; a model's architecture may have too few, so the offline pages fill up.
  const pages = new Map<string, ArchitectureOutput['pages'][number]>();
  const add = (list: ArchitectureOutput['pages'], upTo: number) => {
    for (const page of list) if (pages.size < upTo && !pages.has(pageSlug(page.route))) pages.set(pageSlug(page.route), page);
  };
  add(design.pages, OFFLINE_ITEMS.max);
  add(architecture({ ...input, dependencies: [] }).pages, OFFLINE_ITEMS.min);
  return {
    workItems: [...pages].map(([slug, page], i) => {
      const endpoints = design.apiEndpoints.filter((e) => pageSlug(e.path.replace(/^\/api\//, '')) === slug);
      return {
        id: `wi-${i + 1}`,
        title: humanised(slug),
        description: `${DEMO} Build the ${page.route} page of ${f.name}${endpoints.length ? `, with ${endpoints.map((e) => `${e.method} ${e.path}`).join(' and ')}` : ''}. ${page.purpose}`,
        files: stack.layout(slug).map((file) => file.path),
        acceptanceCriteria: stack.criteria(page.route),
      };
    }),
  };
}

function codegen(input: TaskInput): CodegenOutput {
  const f = factsOf(input);
  const item: WorkItem = input.task.workItem
    ?? { id: '', title: 'Overview', description: f.pitch, files: [], acceptanceCriteria: ['The page shows what the startup does'] };
  const slug = pageSlug(item.title);
  const stack = stackOf(f);
  const page: Page = {
    slug,
    title: item.title,
    description: item.description,
    criteria: item.acceptanceCriteria,
    startup: f.name,
    itemId: item.id || input.task.name,
  };
  const files = stack.layout(slug).map((file) => ({ path: file.path, content: file.write(page) }));
  return {
    workItem: item.id,
    summary: `${DEMO} A first version of "${item.title}" for ${f.name} (${f.market}): ${files.map((file) => file.path).join(', ')}. Placeholder data; not written by a model.`,
    files,
    notes: [...stack.notes(slug), `${DEMO} Review and extend this code before relying on it.`],
  };
}

function review(input: TaskInput): ReviewOutput {
  const f = factsOf(input);
  const codegens = dependenciesOf(input, 'codegen');
  return {
    verdict: 'approve',
    summary: `${DEMO} ${codegens.length} work item(s) of ${f.name} (${f.market}) checked for their files only; no model read the code.`,
    items: codegens.map((dependency) => ({
      workItem: implementedWorkItem(dependency),
      verdict: 'approve',
      comments: [
        `${DEMO} ${dependency.output.files.length} file(s): ${dependency.output.files.map((file) => file.path).join(', ')}`,
        'Not reviewed by a model.',
      ],
    })),
    issues: [{ severity: 'minor', file: '', description: `${DEMO} The code of ${f.name} was generated and checked offline: have it reviewed before shipping.` }],
  };
}

const WRITERS: { [T in TaskType]: (input: TaskInput) => TaskOutput<T> } = {
  research, analysis, spec, architecture, decompose, codegen, review,
};

/**
 * The offline provider's answer to a task: valid for the task's type, and the same
 * bytes for the same input.
 */
export function offlineOutput(input: TaskInput): TaskOutput {
  return WRITERS[input.task.type](input);
}
