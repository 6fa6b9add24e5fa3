import type { TaskType } from '../api/index.ts';
import { dependenciesOf, implementedWorkItem, type TaskInput } from './input.ts';
import { walkJson } from './json.ts';
import type { TaskOutput } from './schemas.ts';

/*
 * The baseline quality rubric: cheap, deterministic signals the coordination layer
 * starts from when it compares providers, and will refine (with model grading, user
 * feedback, downstream success). A score is the weighted mean of
 *
 * - completeness (0.5): each list the type cares about, its length over a sensible
 *   minimum (capped at 1), averaged: three competitors, three work items...;
 * - specificity (0.3): how many of the startup's own terms the text mentions (its display
 *   name, industry, category, words of its idea), full marks at three;
 * - consistency (0.2), where a cheap check exists: the review covers every work item its
 *   codegen dependencies implemented, codegen writes the files its work item lists...
 *   Types without one are scored on the other two alone.
 *
 * It scores validated outputs: emptiness and bounds are validate.ts's job, not the rubric's.
 * A codegen task's score is revised once the review has judged its work item
 * (withReviewVerdict).
 */

const WEIGHTS = { completeness: 0.5, specificity: 0.3, consistency: 0.2 };
const TERMS_FOR_FULL_SPECIFICITY = 3;
const IDEA_TERMS = 8;

type Assessment = {
  /** [length, minimum] of each list that counts. */
  lists: [number, number][];
  /** In [0, 1]; undefined when the type has no cheap check. */
  consistency?: number;
};

const share = (hits: number, total: number) => (total === 0 ? 1 : hits / total);
const shareOf = <T>(items: readonly T[], test: (item: T) => boolean) => share(items.filter(test).length, items.length);
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

const RUBRICS: { [T in TaskType]: (output: TaskOutput<T>, input: TaskInput) => Assessment } = {
  research: (o) => ({
    lists: [[o.trends.length, 3], [o.competitors.length, 3], [o.customerSegments.length, 2], [o.risks.length, 3], [o.sources.length, 2]],
    consistency: shareOf(o.competitors, (c) => c.strengths.length > 0 && c.weaknesses.length > 0),
  }),
  analysis: (o) => ({
    lists: [[o.insights.length, 3], [o.strengths.length, 2], [o.risks.length, 2], [o.recommendations.length, 3]],
  }),
  spec: (o) => ({
    lists: [[o.personas.length, 2], [o.features.length, 3], [o.nonGoals.length, 2], [o.successMetrics.length, 2]],
    consistency: mean([
      o.features.some((f) => f.priority === 'must') ? 1 : 0,
      shareOf(o.features, (f) => f.acceptanceCriteria.length > 0),
    ]),
  }),
  architecture: (o) => ({
    lists: [[o.components.length, 3], [o.dataModel.length, 2], [o.apiEndpoints.length, 3], [o.pages.length, 2], [o.decisions.length, 2]],
    consistency: mean([
      shareOf([...o.apiEndpoints.map((e) => e.path), ...o.pages.map((p) => p.route)], (path) => path.startsWith('/')),
      shareOf(o.dataModel, (e) => e.fields.length > 0),
    ]),
  }),
  decompose: (o) => ({
    lists: [[o.workItems.length, 3]],
    consistency: shareOf(o.workItems, (w) => w.files.length > 0 && w.acceptanceCriteria.length > 0),
  }),
  codegen: (o, input) => {
    const item = input.task.workItem;
    const written = new Set(o.files.map((f) => f.path));
    return {
      lists: [[o.files.length, 1], [o.notes.length, 1]],
      consistency: item === undefined ? undefined : mean([
        o.workItem === item.id ? 1 : 0,
        shareOf(item.files, (path) => written.has(path)),
      ]),
    };
  },
  review: (o, input) => {
    const expected = dependenciesOf(input, 'codegen').map(implementedWorkItem);
    const covered = new Set(o.items.map((i) => i.workItem));
    const needsChanges = o.items.some((i) => i.verdict === 'changes-requested') || o.issues.some((i) => i.severity === 'blocker');
    return {
      lists: [[o.items.length, Math.max(1, expected.length)]],
      consistency: mean([
        shareOf(expected, (id) => covered.has(id)),
        needsChanges && o.verdict === 'approve' ? 0 : 1,
      ]),
    };
  },
};

/** Short, common words that say nothing about a particular startup. */
const STOPWORDS = new Set([
  'about', 'after', 'their', 'there', 'these', 'those', 'which', 'while', 'where', 'would', 'could', 'should',
  'other', 'every', 'using', 'without', 'within', 'through', 'people', 'users', 'platform', 'simple', 'easy',
]);

/** The startup's own terms, lowercase: display name, industry, category and the first distinctive words of its idea. */
function startupTerms(startup: TaskInput['startup']): string[] {
  const ideaWords = (startup.idea.toLowerCase().match(/\p{L}{5,}/gu) ?? []).filter((w) => !STOPWORDS.has(w));
  const terms = [startup.displayName, startup.industry, startup.category].map((t) => t.trim().toLowerCase());
  return [...new Set([...terms, ...ideaWords.slice(0, IDEA_TERMS)])].filter((t) => t !== '');
}

function specificity(output: unknown, startup: TaskInput['startup']): number {
  const strings: string[] = [];
  walkJson(output, (node) => {
    if (typeof node === 'string') strings.push(node.toLowerCase());
  });
  const text = strings.join('\n');
  const terms = startupTerms(startup);
  const hits = terms.filter((t) => text.includes(t)).length;
  return Math.min(1, share(hits, Math.min(TERMS_FOR_FULL_SPECIFICITY, terms.length)));
}

/** How much the review's verdict on its work item weighs in a codegen task's score, once the review is in. */
export const REVIEW_VERDICT_WEIGHT = 0.3;

/**
 * A codegen task's score once the review has judged its work item: the rubric's cheap
 * signals are what is known at first, the verdict of a reader of the code weighs on top.
 */
export function withReviewVerdict(rubric: number, verdict: 'approve' | 'changes-requested'): number {
  const score = (1 - REVIEW_VERDICT_WEIGHT) * rubric + REVIEW_VERDICT_WEIGHT * (verdict === 'approve' ? 1 : 0);
  return Math.round(score * 1000) / 1000;
}

/** Score a validated output in [0, 1] (three decimals); the same output and input always score the same. */
export function scoreOutput<T extends TaskType>(type: T, output: TaskOutput<T>, input: TaskInput): number {
  const { lists, consistency } = (RUBRICS[type] as (o: TaskOutput<T>, i: TaskInput) => Assessment)(output, input);
  const parts: [number, number][] = [
    [WEIGHTS.completeness, mean(lists.map(([length, minimum]) => Math.min(1, length / minimum)))],
    [WEIGHTS.specificity, specificity(output, input.startup)],
  ];
  if (consistency !== undefined) parts.push([WEIGHTS.consistency, consistency]);
  const score = parts.reduce((sum, [w, v]) => sum + w * v, 0) / parts.reduce((sum, [w]) => sum + w, 0);
  return Math.round(score * 1000) / 1000;
}
