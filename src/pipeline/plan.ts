import type { FileTree } from '../templates/tree.ts';

/** One stored output, as the export reads it back. */
export type PlanDocument = { task: string; json: string; markdown: string; provider: string; model: string; quality: string };

export const PLAN_DIR = 'docs/plan';
/** Upper case, like README.md: no task's document can have its name (task names are lowercase DNS labels). */
export const CODE_REPORT = 'CODE.md';

/**
 * The startup's plan as files of its repository: each task's output as Markdown for
 * people and JSON for tools, under docs/plan/, the report of the generated code (when
 * given) and an index in pipeline order. Added beside the project: a file of `project` at
 * the same path (there is none in the built-in templates) is kept, and the plan's file is
 * not written.
 */
export function planTree(documents: readonly PlanDocument[], project: FileTree, codeReport?: string): FileTree {
  const tree: FileTree = new Map();
  const add = (path: string, text: string) => {
    if (!project.has(path)) tree.set(path, Buffer.from(text, 'utf8'));
  };
  for (const d of documents) {
    add(`${PLAN_DIR}/${d.task}.md`, d.markdown);
    add(`${PLAN_DIR}/${d.task}.json`, d.json.endsWith('\n') ? d.json : `${d.json}\n`);
  }
  if (codeReport !== undefined) add(`${PLAN_DIR}/${CODE_REPORT}`, codeReport);
  if (documents.length > 0) {
    const rows = documents.map((d) => `| [${d.task}](${d.task}.md) | ${d.provider} | ${d.model} | ${d.quality} |`);
    add(`${PLAN_DIR}/README.md`, [
      '# The plan', '',
      'Written by the Startup Factory pipeline, one document per task (the JSON beside each is the same output for tools).', '',
      '| task | provider | model | quality |', '|---|---|---|---|', ...rows, '',
      ...(codeReport !== undefined ? [`How the generated code was merged over the scaffold: [${CODE_REPORT}](${CODE_REPORT}).`, ''] : []),
    ].join('\n'));
  }
  return tree;
}
