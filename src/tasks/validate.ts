import type { TaskType } from '../api/index.ts';
import { checkTreePath } from '../templates/tree.ts';
import { formatPath, walkJson, type JsonPath } from './json.ts';
import { TASK_OUTPUT_SCHEMAS, type TaskOutput } from './schemas.ts';

/*
 * The schemas carry no bounds (structured output refuses them), so the bounds are checked
 * here. Issues are short and name the field, because the runner hands them back to the
 * model when it asks again.
 */

/** Outputs land in ConfigMaps (1 MiB each, the Markdown rendering beside the JSON). */
const MAX_JSON_BYTES = 512 * 1024;
const MAX_FILE_BYTES = 128 * 1024;
const MAX_LIST = 50;
const MAX_ISSUES = 10;
const WORK_ITEM_ID = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_WORK_ITEM_ID = 32;

/** Lists bounded otherwise than 0..MAX_LIST, keyed by their place in the schema. */
const LIST_BOUNDS: { [T in TaskType]?: Record<string, [min: number, max: number]> } = {
  decompose: { workItems: [1, 16] },
  codegen: { files: [1, 32] },
};

/** Text that may be empty: an empty file, a codegen task without a work item, a general review issue. */
const MAY_BE_EMPTY: { [T in TaskType]?: string[] } = {
  codegen: ['workItem', 'files[].content'],
  review: ['issues[].file'],
};

type Report = (path: JsonPath, problem: string) => void;

/** Checks that need to know what a field means. */
const SEMANTIC_CHECKS: { [T in TaskType]?: (output: TaskOutput<T>, report: Report) => void } = {
  research(output, report) {
    output.sources.forEach((source, i) => {
      if (!isHttpUrl(source.url)) report(['sources', i, 'url'], 'must be an absolute http(s) URL');
    });
  },
  decompose(output, report) {
    const seen = new Set<string>();
    output.workItems.forEach((item, i) => {
      if (!WORK_ITEM_ID.test(item.id)) report(['workItems', i, 'id'], 'must be a lowercase slug like "wi-1"');
      else if (item.id.length > MAX_WORK_ITEM_ID) report(['workItems', i, 'id'], `must be at most ${MAX_WORK_ITEM_ID} characters`);
      if (seen.has(item.id)) report(['workItems', i, 'id'], `duplicate id "${item.id}"`);
      seen.add(item.id);
      item.files.forEach((path, j) => {
        const problem = checkTreePath(path);
        if (problem) report(['workItems', i, 'files', j], problem);
      });
    });
  },
  codegen(output, report) {
    const seen = new Set<string>();
    output.files.forEach((file, i) => {
      const problem = checkTreePath(file.path);
      if (problem) report(['files', i, 'path'], problem);
      if (seen.has(file.path)) report(['files', i, 'path'], `duplicate path "${file.path}"`);
      seen.add(file.path);
      if (Buffer.byteLength(file.content) > MAX_FILE_BYTES) report(['files', i, 'content'], `must be at most ${MAX_FILE_BYTES / 1024} KiB`);
    });
  },
};

function isHttpUrl(text: string): boolean {
  return URL.canParse(text) && ['http:', 'https:'].includes(new URL(text).protocol);
}

/** Empty text and list sizes, for every field of the output. */
function checkFields(type: TaskType, output: unknown, report: Report): void {
  const bounds = LIST_BOUNDS[type] ?? {};
  const mayBeEmpty = new Set(MAY_BE_EMPTY[type]);
  walkJson(output, (node, path) => {
    const field = formatPath(path, false);
    if (typeof node === 'string' && node.trim() === '' && !mayBeEmpty.has(field)) {
      report(path, 'must not be empty');
    } else if (Array.isArray(node)) {
      const [min, max] = bounds[field] ?? [0, MAX_LIST];
      if (node.length < min) report(path, `must have at least ${min} ${min === 1 ? 'entry' : 'entries'}`);
      if (node.length > max) report(path, `must have at most ${max} entries, has ${node.length}`);
    }
  });
}

function jsonBytes(value: unknown): number | undefined {
  try {
    const json = JSON.stringify(value);
    return json === undefined ? undefined : Buffer.byteLength(json);
  } catch {
    return undefined;
  }
}

function capped(issues: string[]): string[] {
  if (issues.length <= MAX_ISSUES) return issues;
  return [...issues.slice(0, MAX_ISSUES - 1), `... and ${issues.length - MAX_ISSUES + 1} more issues`];
}

export type Validation<T extends TaskType> = { ok: true; output: TaskOutput<T> } | { ok: false; issues: string[] };

/**
 * Check a model's answer against the output schema of its task type and the bounds the
 * schema cannot express. The output is the parsed value (unknown keys dropped).
 */
export function validateOutput<T extends TaskType>(type: T, value: unknown): Validation<T> {
  const bytes = jsonBytes(value);
  if (bytes !== undefined && bytes > MAX_JSON_BYTES) {
    return { ok: false, issues: [`(root): the output is ${Math.ceil(bytes / 1024)} KiB of JSON, more than the ${MAX_JSON_BYTES / 1024} KiB allowed`] };
  }
  const parsed = TASK_OUTPUT_SCHEMAS[type].safeParse(value);
  if (!parsed.success) {
    return { ok: false, issues: capped(parsed.error.issues.map((i) => `${formatPath(i.path.map(asSegment))}: ${i.message}`)) };
  }
  const output = parsed.data as TaskOutput<T>;
  const issues: string[] = [];
  const reported = new Set<string>();
  // One issue per field: a blank path need not also be reported as an invalid one.
  const report: Report = (path, problem) => {
    const at = formatPath(path);
    if (!reported.has(at)) issues.push(`${at}: ${problem}`);
    reported.add(at);
  };
  checkFields(type, output, report);
  (SEMANTIC_CHECKS[type] as ((o: TaskOutput<T>, r: Report) => void) | undefined)?.(output, report);
  return issues.length === 0 ? { ok: true, output } : { ok: false, issues: capped(issues) };
}

function asSegment(key: PropertyKey): string | number {
  return typeof key === 'symbol' ? String(key) : key;
}
