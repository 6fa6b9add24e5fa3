import type { TaskType } from '../api/index.ts';
import type { TaskOutput } from './schemas.ts';

/*
 * The startup's shared context: what each task found, boiled down to the insights later
 * tasks need (the market, the competitors, the founder, how it makes money, the MVP, the
 * architecture, the work items), so a task sees the whole of what came before it and not
 * only the full outputs of its direct dependencies, whichever provider wrote them. Each
 * entry carries a priority: when the prompt's context budget is short, the insights that
 * shape the product (the spec, the architecture) are kept before the colour (trends).
 */

export type ContextTopic =
  | 'market' | 'competitors' | 'customers' | 'founder' | 'monetization'
  | 'mvp' | 'personas' | 'architecture' | 'work-items' | 'code' | 'review';

export type ContextEntry = {
  /** The task whose output it was extracted from. */
  source: string;
  topic: ContextTopic;
  title: string;
  text: string;
  /** Higher is kept first when the budget is short. */
  priority: number;
};

/** Rough tokens of a text: about four characters per token for English prose and JSON in these tokenizers. */
export const estimateTokens = (text: string): number => Math.ceil(text.length / 4);

const lines = (items: readonly string[], limit = 8) => items.slice(0, limit).map((i) => `- ${i}`).join('\n');

type Extractor<T extends TaskType> = (output: TaskOutput<T>, source: string, standalone: boolean) => ContextEntry[];

const EXTRACTORS: { [T in TaskType]: Extractor<T> } = {
  research: (o, source) => [
    {
      source, topic: 'market', priority: 60, title: 'Market',
      text: [o.summary, `TAM: ${o.marketSize.tam}`, `SAM: ${o.marketSize.sam}`, `SOM: ${o.marketSize.som}`, lines(o.trends.map((t) => `${t.trend}: ${t.impact}`), 4)].join('\n'),
    },
    {
      source, topic: 'competitors', priority: 70, title: 'Competitors',
      text: lines(o.competitors.map((c) => `${c.name}: ${c.positioning}${c.weaknesses[0] ? ` Weak spot: ${c.weaknesses[0]}` : ''}`), 6),
    },
    {
      source, topic: 'customers', priority: 75, title: 'Customer segments',
      text: lines(o.customerSegments.map((s) => `${s.segment}: ${s.needs.slice(0, 3).join('; ')}`), 5),
    },
  ],
  // Without dependencies an analysis judges the founder; with them it is the business model.
  analysis: (o, source, standalone) => [{
    source, topic: standalone ? 'founder' : 'monetization', priority: standalone ? 55 : 80,
    title: standalone ? 'Founder' : 'Business model',
    text: [o.summary, lines(o.insights.map((i) => i.title), 5), standalone ? `Gaps: ${o.risks.slice(0, 3).join('; ')}` : `Next: ${o.recommendations.slice(0, 3).join('; ')}`].join('\n'),
  }],
  spec: (o, source) => [
    {
      source, topic: 'mvp', priority: 95, title: `MVP: ${o.productName}`,
      text: [
        `Problem: ${o.problem}`, `Solution: ${o.solution}`,
        lines(o.features.filter((f) => f.priority === 'must').map((f) => `${f.name} (must): ${f.description}`)),
        `Not in the MVP: ${o.nonGoals.join('; ')}`,
      ].join('\n'),
    },
    { source, topic: 'personas', priority: 85, title: 'Personas', text: lines(o.personas.map((p) => `${p.name}: ${p.description}`), 4) },
  ],
  architecture: (o, source) => [{
    source, topic: 'architecture', priority: 90, title: 'Architecture',
    text: [
      o.overview,
      lines(o.components.map((c) => `${c.name} (${c.kind}): ${c.technology}`)),
      `Pages: ${o.pages.map((p) => p.route).join(', ')}`,
      `API: ${o.apiEndpoints.slice(0, 12).map((e) => `${e.method} ${e.path}`).join(', ')}`,
      `Entities: ${o.dataModel.map((e) => e.entity).join(', ')}`,
    ].join('\n'),
  }],
  decompose: (o, source) => [{
    source, topic: 'work-items', priority: 88, title: 'Work items',
    text: lines(o.workItems.map((w) => `${w.id} ${w.title}: ${w.files.join(', ')}`), 16),
  }],
  codegen: (o, source) => [{
    source, topic: 'code', priority: 40, title: `Code of ${o.workItem || source}`,
    text: `${o.summary}\nFiles: ${o.files.map((f) => f.path).join(', ')}`,
  }],
  review: (o, source) => [{ source, topic: 'review', priority: 30, title: `Review: ${o.verdict}`, text: o.summary }],
};

/**
 * The insights of one validated output. `standalone` says the task had no dependencies
 * (an analysis of the founder rather than of earlier findings).
 */
export function extractInsights<T extends TaskType>(type: T, source: string, output: TaskOutput<T>, standalone: boolean): ContextEntry[] {
  return (EXTRACTORS[type] as Extractor<T>)(output, source, standalone).filter((e) => e.text.trim() !== '');
}

export type FittedContext = {
  /** Markdown, entries in the order given (the pipeline's), or '' when there are none. */
  text: string;
  /** Sources of entries cut short or left out, for the record. */
  truncated: string[];
  dropped: string[];
};

/** Below this many tokens of room, an entry is left out rather than cut to a stub. */
const MIN_TRUNCATED_TOKENS = 64;

/**
 * The entries that fit in `budgetTokens`, the highest priority first (earlier entries
 * first among equals); the one that no longer fits whole is cut to the room left, the
 * rest are left out. Shown in the given order, so the same entries always read the same
 * (a stable prompt prefix is what providers' prompt caches key on).
 */
export function fitContext(entries: readonly ContextEntry[], budgetTokens: number): FittedContext {
  const rendered = entries.map((e) => `## ${e.title} (from ${e.source})\n\n${e.text.trim()}`);
  const byPriority = entries.map((e, i) => ({ e, i })).sort((a, b) => b.e.priority - a.e.priority || a.i - b.i);
  const kept = new Map<number, string>();
  const truncated: string[] = [];
  const dropped: string[] = [];
  let room = budgetTokens;
  for (const { e, i } of byPriority) {
    const text = rendered[i]!;
    const cost = estimateTokens(text) + 1;
    if (cost <= room) {
      kept.set(i, text);
      room -= cost;
    } else if (room >= MIN_TRUNCATED_TOKENS) {
      kept.set(i, `${text.slice(0, (room - 8) * 4).trimEnd()}\n(cut)`);
      truncated.push(e.source);
      room = 0;
    } else {
      dropped.push(e.source);
    }
  }
  const text = [...kept].sort(([a], [b]) => a - b).map(([, t]) => t).join('\n\n');
  return { text, truncated: [...new Set(truncated)], dropped: [...new Set(dropped)] };
}
