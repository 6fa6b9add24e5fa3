import type { TaskType } from '../api/index.ts';
import type { TaskOutput } from './schemas.ts';

/*
 * Task outputs as Markdown documents, `docs/plan/<task>.md` in the exported repository.
 * The text is the model's (or the user's) and stays Markdown: only what would break the
 * document's own structure is neutralised (line breaks in one-line places, `|` in table
 * cells, brackets in link text, backticks against code spans and fences).
 */

/** Text for a one-line place: a heading, a list item, a table cell. */
function inline(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function cell(text: string): string {
  return inline(text).replace(/\|/g, '\\|') || ' ';
}

function longestBacktickRun(text: string): number {
  return Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
}

/** A code span that survives backticks in the text. */
function code(text: string): string {
  const ticks = '`'.repeat(longestBacktickRun(text) + 1);
  const body = inline(text);
  const pad = body.startsWith('`') || body.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${body}${pad}${ticks}`;
}

/** A fenced code block that survives fences in the content. */
export function fence(content: string, language = ''): string {
  const ticks = '`'.repeat(Math.max(3, longestBacktickRun(content) + 1));
  return `${ticks}${language}\n${content.replace(/\n$/, '')}\n${ticks}`;
}

function link(title: string, url: string): string {
  const text = inline(title).replace(/[[\]]/g, '\\$&');
  // The URL's serialised form has no spaces or angle brackets, so `<...>` holds it whole.
  return URL.canParse(url) ? `[${text}](<${new URL(url).href}>)` : `${text} (${inline(url)})`;
}

const NONE = '_None._';

function bullets(items: readonly string[]): string {
  return items.length === 0 ? NONE : items.map((item) => `- ${inline(item)}`).join('\n');
}

function numbered(items: readonly string[]): string {
  return items.length === 0 ? NONE : items.map((item, i) => `${i + 1}. ${inline(item)}`).join('\n');
}

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return NONE;
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map((r) => line(r.map(cell)))].join('\n');
}

const section = (title: string, body: string) => `## ${title}\n\n${body.trim()}`;
const labelled = (label: string, text: string) => `**${inline(label)}**: ${inline(text)}`;
const joined = (items: readonly string[]) => items.map(inline).join('; ');

const TITLES: Record<TaskType, string> = {
  research: 'Market research',
  analysis: 'Analysis',
  spec: 'Product specification',
  architecture: 'Architecture',
  decompose: 'Work plan',
  codegen: 'Implementation',
  review: 'Code review',
};

const RENDERERS: { [T in TaskType]: (output: TaskOutput<T>) => string[] } = {
  research: (o) => [
    section('Summary', o.summary),
    section('Market size', [
      table(['Market', 'Estimate'], [['TAM', o.marketSize.tam], ['SAM', o.marketSize.sam], ['SOM', o.marketSize.som]]),
      labelled('Reasoning', o.marketSize.reasoning),
    ].join('\n\n')),
    section('Trends', bullets(o.trends.map((t) => labelled(t.trend, t.impact)))),
    section('Competitors', table(
      ['Competitor', 'Positioning', 'Strengths', 'Weaknesses'],
      o.competitors.map((c) => [c.name, c.positioning, joined(c.strengths), joined(c.weaknesses)]),
    )),
    section('Customer segments', bullets(o.customerSegments.map((s) => labelled(s.segment, joined(s.needs))))),
    section('Risks', bullets(o.risks)),
    section('Sources', bullets(o.sources.map((s) => link(s.title, s.url)))),
  ],
  analysis: (o) => [
    section('Summary', o.summary),
    section('Insights', bullets(o.insights.map((i) => labelled(i.title, i.detail)))),
    section('Strengths', bullets(o.strengths)),
    section('Gaps and risks', bullets(o.risks)),
    section('Recommendations', numbered(o.recommendations)),
  ],
  spec: (o) => [
    section('Product', `**${inline(o.productName)}**`),
    section('Problem', o.problem),
    section('Solution', o.solution),
    section('Personas', o.personas.length === 0 ? NONE : o.personas
      .map((p) => `### ${inline(p.name)}\n\n${inline(p.description)}\n\nGoals:\n\n${bullets(p.goals)}`).join('\n\n')),
    section('Features', o.features.length === 0 ? NONE : [
      table(['Feature', 'Priority', 'Description'], o.features.map((f) => [f.name, f.priority, f.description])),
      ...o.features.map((f) => `### ${inline(f.name)} (${f.priority})\n\n${inline(f.description)}\n\nAcceptance criteria:\n\n${bullets(f.acceptanceCriteria)}`),
    ].join('\n\n')),
    section('Non-goals', bullets(o.nonGoals)),
    section('Success metrics', table(['Metric', 'Target'], o.successMetrics.map((m) => [m.metric, m.target]))),
  ],
  architecture: (o) => [
    section('Overview', o.overview),
    section('Components', table(
      ['Component', 'Kind', 'Technology', 'Responsibilities'],
      o.components.map((c) => [c.name, c.kind, c.technology, joined(c.responsibilities)]),
    )),
    section('Data model', o.dataModel.length === 0 ? NONE : o.dataModel
      .map((e) => `### ${inline(e.entity)}\n\n${table(['Field', 'Type'], e.fields.map((f) => [f.name, f.type]))}`).join('\n\n')),
    section('API', table(['Method', 'Path', 'Description'], o.apiEndpoints.map((e) => [e.method, code(e.path), e.description]))),
    section('Pages', table(['Route', 'Purpose'], o.pages.map((p) => [code(p.route), p.purpose]))),
    section('Decisions', bullets(o.decisions.map((d) => labelled(d.decision, d.rationale)))),
  ],
  decompose: (o) => [
    section('Work items', table(['Id', 'Title', 'Files'], o.workItems.map((w) => [code(w.id), w.title, String(w.files.length)]))),
    ...o.workItems.map((w) => [
      `## ${inline(w.id)}: ${inline(w.title)}`,
      w.description.trim(),
      `Files:\n\n${bullets(w.files.map(code))}`,
      `Acceptance criteria:\n\n${bullets(w.acceptanceCriteria)}`,
    ].join('\n\n')),
  ],
  // The files themselves are merged into the repository; the plan lists them.
  codegen: (o) => [
    ...(o.workItem === '' ? [] : [`Work item: ${code(o.workItem)}`]),
    section('Summary', o.summary),
    section('Files', table(['Path', 'Lines'], o.files.map((f) => [code(f.path), String(f.content.split('\n').length)]))),
    section('Notes', bullets(o.notes)),
  ],
  review: (o) => [
    `**Verdict: ${o.verdict === 'approve' ? 'approved' : 'changes requested'}**`,
    section('Summary', o.summary),
    section('Work items', table(
      ['Work item', 'Verdict', 'Comments'],
      o.items.map((i) => [code(i.workItem), i.verdict, joined(i.comments)]),
    )),
    section('Issues', table(
      ['Severity', 'File', 'Description'],
      o.issues.map((i) => [i.severity, i.file === '' ? '(general)' : code(i.file), i.description]),
    )),
  ],
};

/** A task's output as a Markdown document: the same arguments always give the same text. */
export function toMarkdown<T extends TaskType>(type: T, taskName: string, output: TaskOutput<T>, startupDisplayName: string): string {
  const body = (RENDERERS[type] as (o: TaskOutput<T>) => string[])(output);
  return `${[`# ${TITLES[type]} for ${inline(startupDisplayName)} (${inline(taskName)})`, ...body].join('\n\n')}\n`;
}
