/**
 * Answers a mock provider gives to pipeline tasks: a valid output of the task type the
 * request asks for, read off the request itself (the json_schema name the runner sends
 * to OpenAI-format providers, the forced tool `submit_<type>` for Anthropic).
 */
import type { TaskType } from '../../../src/api/index.ts';
import { ACME, offlinePipeline } from '../task-fixtures.ts';
import type { FixtureRequest, Reply } from './server.ts';

const samples = new Map<TaskType, unknown>();
for (const step of offlinePipeline(ACME)) if (!samples.has(step.input.task.type)) samples.set(step.input.task.type, step.output);

export function taskTypeOf(req: FixtureRequest): TaskType | undefined {
  const name: unknown = req.protocol === 'anthropic' ? req.body?.tool_choice?.name?.replace(/^submit_/, '') : req.body?.response_format?.json_schema?.name;
  return typeof name === 'string' && samples.has(name as TaskType) ? (name as TaskType) : undefined;
}

/** Tokens every mock call reports, so a test can price the whole pipeline exactly. */
export const MOCK_USAGE = { inputTokens: 1200, outputTokens: 300 } as const;

/** A valid output for the task, with fixed usage. */
export function validOutput(req: FixtureRequest): Reply {
  const type = taskTypeOf(req);
  if (!type) throw new Error(`no task type in request ${req.index} to ${req.path}`);
  return { content: JSON.stringify(samples.get(type)), ...MOCK_USAGE };
}
