import type { FileTree } from '../templates/tree.ts';

/** One stored output, as the export reads it back. */
export type PlanDocument = { task: string; json: string; markdown: string; provider: string; model: string; quality: string };

export const PLAN_DIR = 'docs/plan';

/**
 * The startup's plan as files of its repository: each task's output as Markdown for
 * people and JSON for tools, under docs/plan/, and an index in pipeline order. Added
 * beside the scaffold; a scaffold file at the same path (there is none in the built-in
 * templates) is kept, and the plan's file is not written.
 */
export function planTree(documents: readonly PlanDocument[], scaffold: FileTree): FileTree {
  const tree: FileTree = new Map();
  const add = (path: string, text: string) => {
    if (!scaffold.has(path)) tree.set(path, Buffer.from(text, 'utf8'));
  };
  for (const d of documents) {
    add(`${PLAN_DIR}/${d.task}.md`, d.markdown);
    add(`${PLAN_DIR}/${d.task}.json`, d.json.endsWith('\n') ? d.json : `${d.json}\n`);
  }
  if (documents.length > 0) {
    const rows = documents.map((d) => `| [${d.task}](${d.task}.md) | ${d.provider} | ${d.model} | ${d.quality} |`);
    add(`${PLAN_DIR}/README.md`, [
      '# The plan', '',
      'Written by the Startup Factory pipeline, one document per task (the JSON beside each is the same output for tools).', '',
      '| task | provider | model | quality |', '|---|---|---|---|', ...rows, '',
    ].join('\n'));
  }
  return tree;
}
