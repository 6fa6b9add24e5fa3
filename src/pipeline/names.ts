/**
 * Names and labels of the objects a pipeline consists of, all in the startup's namespace
 * and all derived from (task, attempt): deterministic, so an operator that restarts at
 * any moment finds what it made and never makes it twice.
 */

export const TASK_LABEL = 'startupfactory.dev/task';
export const ATTEMPT_LABEL = 'startupfactory.dev/attempt';
/** On output ConfigMaps, so the scheduler's informer watches them and nothing else. */
export const OUTPUT_LABEL = 'startupfactory.dev/output';

/** Job annotations: what the attempt was given, and (written by the gateway) how it ended. */
export const PROVIDER_ANNOTATION = 'startupfactory.dev/provider';
export const FAILURE_REASON_ANNOTATION = 'startupfactory.dev/failure-reason';
export const FAILURE_KIND_ANNOTATION = 'startupfactory.dev/failure-kind';
export const FAILURE_MESSAGE_ANNOTATION = 'startupfactory.dev/failure-message';

/** Output ConfigMap annotations: who produced it, how good it is, and what the scheduler needs without reading its data. */
export const OUTPUT_PROVIDER_ANNOTATION = 'startupfactory.dev/provider';
export const OUTPUT_MODEL_ANNOTATION = 'startupfactory.dev/model';
export const OUTPUT_QUALITY_ANNOTATION = 'startupfactory.dev/quality';
export const OUTPUT_ATTEMPT_ANNOTATION = 'startupfactory.dev/attempt';
export const OUTPUT_FINISHED_ANNOTATION = 'startupfactory.dev/finished-at';
/** On a codegen output the review has judged: its verdict, and the rubric's score before the verdict counted. */
export const OUTPUT_REVIEW_VERDICT_ANNOTATION = 'startupfactory.dev/review-verdict';
export const OUTPUT_RUBRIC_QUALITY_ANNOTATION = 'startupfactory.dev/rubric-quality';
/** On a `decompose` output: how many work items it holds, which is all a fan-out needs to expand. */
export const OUTPUT_WORK_ITEMS_ANNOTATION = 'startupfactory.dev/work-items';

/** The startup's shared context: per source task, `<task>.json` (entries) and `<task>.md` (for people). */
export const CONTEXT_CONFIGMAP = 'shared-context';

export const OUTPUT_JSON_KEY = 'output.json';
export const OUTPUT_MARKDOWN_KEY = 'output.md';

/** `market-research`, attempt 2 → Job `market-research-2`. Task names are at most 52 characters, so this stays a valid Job name. */
export function jobName(task: string, attempt: number): string {
  return `${task}-${attempt}`;
}

/** The Secret holding an attempt's gateway token (owned by its Job, gone with it). */
export function tokenSecretName(job: string): string {
  return `${job}-token`;
}

export function outputConfigMapName(task: string): string {
  return `output-${task}`;
}

/** Fan-out tasks are `codegen-0`, `codegen-1`, ...: stable as long as the work items are. */
export function fanOutName(task: string, index: number): string {
  return `${task}-${index}`;
}
