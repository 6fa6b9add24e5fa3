import { implementedWorkItem } from '../tasks/input.ts';
import { fence } from '../tasks/markdown.ts';
import { codegenSchema, type CodegenOutput } from '../tasks/schemas.ts';
import { checkTreePath, type FileTree } from '../templates/tree.ts';
import { CODE_REPORT, PLAN_DIR, planTree, type PlanDocument } from './plan.ts';

/*
 * The code the pipeline wrote, merged over the rendered scaffold for `startup-factory
 * export`. A generated file replaces the scaffold's file at its path. When several codegen
 * tasks write one path, the first in task order wins: by name, then by fan-out index read
 * as a number (`codegen-2` before `codegen-10`), so the result never depends on which task
 * finished first. Every path is checked again here, whatever validated it when it was
 * stored: a refused file is reported, never written.
 */

/** One codegen task's stored output. */
export type GeneratedCode = { task: string; output: CodegenOutput };

/** What became of one file a codegen task wrote. */
export type FileOutcome =
  | { path: string; outcome: 'added' }
  /** It replaced the scaffold's file at this path. */
  | { path: string; outcome: 'replaced' }
  /** An earlier task (in task order) wrote this path, and its file is kept. */
  | { path: string; outcome: 'lost'; winner: string }
  | { path: string; outcome: 'refused'; problem: string };

export type CodeItem = { task: string; workItem: string; files: FileOutcome[] };
export type Conflict = { path: string; winner: string; losers: string[] };

export type CodeMerge = {
  /** The scaffold with the generated files over it. */
  tree: FileTree;
  /** Each codegen task, in task order. */
  items: CodeItem[];
  /** Scaffold files a generated file replaced, with the task that wrote it. */
  overrides: { path: string; task: string }[];
  conflicts: Conflict[];
};

/** `codegen-10` → [`codegen`, 10]; a name without an index sorts before its indexed siblings. */
function orderKey(task: string): [string, number] {
  const match = /^(.*)-(\d+)$/.exec(task);
  return match ? [match[1]!, Number(match[2])] : [task, -1];
}

function compareTasks(a: string, b: string): number {
  const [baseA, indexA] = orderKey(a);
  const [baseB, indexB] = orderKey(b);
  if (baseA !== baseB) return baseA < baseB ? -1 : 1;
  return indexA - indexB || (a < b ? -1 : a > b ? 1 : 0);
}

/** `a/b/c.ts` → `a`, `a/b`. */
function ancestors(path: string): string[] {
  const segments = path.split('/');
  return segments.slice(1).map((_, i) => segments.slice(0, i + 1).join('/'));
}

/** The scaffold with the codegen outputs over it, and what became of each file; `outputs` in any order. */
export function mergeCode(scaffold: FileTree, outputs: readonly GeneratedCode[]): CodeMerge {
  const tree: FileTree = new Map(scaffold);
  // Written out, a path cannot be both a file and a directory; the plan's directory is taken too.
  const directories = new Set([...[...scaffold.keys()].flatMap(ancestors), ...ancestors(PLAN_DIR), PLAN_DIR]);
  const winners = new Map<string, string>();
  const overrides: CodeMerge['overrides'] = [];

  const problemOf = (path: string, seen: Set<string>): string | undefined => {
    const invalid = checkTreePath(path);
    if (invalid) return invalid;
    if (seen.has(path)) return 'written twice by this task; the first is kept';
    if (path.startsWith(`${PLAN_DIR}/`)) return `${PLAN_DIR}/ holds the plan`;
    if (winners.has(path)) return undefined;
    if (directories.has(path)) return 'is a directory of the project';
    const file = ancestors(path).find((dir) => tree.has(dir));
    return file ? `${file} is a file of the project, not a directory` : undefined;
  };

  const items = [...outputs].sort((a, b) => compareTasks(a.task, b.task)).map(({ task, output }): CodeItem => {
    const seen = new Set<string>();
    const files = output.files.map(({ path, content }): FileOutcome => {
      const problem = problemOf(path, seen);
      seen.add(path);
      if (problem) return { path, outcome: 'refused', problem };
      const winner = winners.get(path);
      if (winner) return { path, outcome: 'lost', winner };
      const replaced = tree.has(path);
      tree.set(path, Buffer.from(content, 'utf8'));
      winners.set(path, task);
      for (const dir of ancestors(path)) directories.add(dir);
      if (replaced) overrides.push({ path, task });
      return { path, outcome: replaced ? 'replaced' : 'added' };
    });
    return { task, workItem: implementedWorkItem({ name: task, output }), files };
  });

  const conflicts = new Map<string, Conflict>();
  for (const item of items) {
    for (const file of item.files) {
      if (file.outcome !== 'lost') continue;
      const conflict = conflicts.get(file.path) ?? { path: file.path, winner: file.winner, losers: [] };
      conflict.losers.push(item.task);
      conflicts.set(file.path, conflict);
    }
  }
  return { tree, items, overrides, conflicts: [...conflicts.values()] };
}

/**
 * The codegen outputs among the stored ones, known by their shape: the export reads
 * outputs, not the pipeline, which may have changed since they were made.
 */
export function codegenOutputs(documents: readonly PlanDocument[]): GeneratedCode[] {
  return documents.flatMap((d) => {
    let json: unknown;
    try {
      json = JSON.parse(d.json);
    } catch {
      return [];
    }
    const parsed = codegenSchema.safeParse(json);
    return parsed.success ? [{ task: d.task, output: parsed.data }] : [];
  });
}

const count = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** Files written (added or replacing the scaffold's) and files refused, over all tasks. */
function tally(merge: CodeMerge): { written: number; refused: number } {
  const files = merge.items.flatMap((item) => item.files);
  return {
    written: files.filter((f) => f.outcome === 'added' || f.outcome === 'replaced').length,
    refused: files.filter((f) => f.outcome === 'refused').length,
  };
}

/** `docs/plan/CODE.md`: each task's files and what became of them, then the conflicts. Paths go in fences: they may hold any character Markdown gives meaning to. */
export function codeReport(merge: CodeMerge): string {
  const describe = (file: FileOutcome) => {
    switch (file.outcome) {
      case 'added': return `added     ${file.path}`;
      case 'replaced': return `replaced  ${file.path}  (the scaffold's file)`;
      case 'lost': return `lost      ${file.path}  (${file.winner} wrote it first)`;
      case 'refused': return `refused   ${JSON.stringify(file.path)}: ${file.problem}`;
    }
  };
  const { written, refused } = tally(merge);
  return [
    '# Generated code', '',
    'The files the codegen tasks wrote, merged over the scaffold by `startup-factory export`. A generated file',
    'replaces the scaffold\'s file at its path. When several tasks write one path, the first in task order wins:',
    'by name, then by fan-out index as a number (`codegen-2` before `codegen-10`). A path that would leave the',
    'project, land in docs/plan/ or turn a file into a directory is refused and not written.', '',
    `${count(merge.items.length, 'codegen task')}, ${count(written, 'file')} written (${merge.overrides.length} replacing scaffold files), ` +
      `${count(merge.conflicts.length, 'conflict')}, ${refused} refused.`, '',
    ...merge.items.flatMap((item) => [
      `## ${item.task}`, '',
      fence([`work item ${JSON.stringify(item.workItem)}`, ...item.files.map(describe)].join('\n'), 'text'), '',
    ]),
    '## Conflicts', '',
    merge.conflicts.length === 0
      ? '_None._'
      : fence(merge.conflicts.map((c) => `${c.path}: ${c.winner} wins over ${c.losers.join(', ')}`).join('\n'), 'text'),
    '',
  ].join('\n');
}

/** The export's account of the code, for its one line on stderr. */
export function codeSummary(merge: CodeMerge): string {
  const { written, refused } = tally(merge);
  const shown = merge.conflicts.slice(0, 3).map((c) => `${c.path}: ${c.winner} won`);
  const parts = [
    `${count(written, 'generated file')} from ${count(merge.items.length, 'codegen task')}`,
    ...(merge.overrides.length > 0 ? [`${merge.overrides.length} replacing scaffold files`] : []),
    ...(merge.conflicts.length > 0
      ? [`${count(merge.conflicts.length, 'conflict')} (${shown.join(', ')}${merge.conflicts.length > shown.length ? ', ...' : ''})`]
      : []),
    ...(refused > 0 ? [`${refused} refused`] : []),
  ];
  return `${parts.join(', ')}${merge.conflicts.length > 0 || refused > 0 ? ` (see ${PLAN_DIR}/${CODE_REPORT})` : ''}`;
}

/**
 * What `startup-factory export` writes: the scaffold, the generated code merged over it,
 * and the plan (with the code report) beside them.
 */
export function exportTree(scaffold: FileTree, documents: readonly PlanDocument[]): { tree: FileTree; code: CodeMerge; plan: FileTree } {
  const code = mergeCode(scaffold, codegenOutputs(documents));
  const plan = planTree(documents, code.tree, code.items.length > 0 ? codeReport(code) : undefined);
  return { tree: new Map([...code.tree, ...plan]), code, plan };
}
