import { z } from 'zod';
import { renderPrompt } from '../tasks/prompts.ts';
import { TASK_OUTPUT_SCHEMAS } from '../tasks/schemas.ts';
import type { TaskInput } from '../tasks/input.ts';

/** Around the prompt and the schema in a request: the model's name, roles, options, field names. */
const ENVELOPE_BYTES = 1024;

/**
 * The size of the body an attempt's first call will have, as the runner builds it: its
 * prompt and its output's JSON Schema, JSON-quoted, and an envelope. The gateway reserves a
 * call's input at its body's size in bytes (see prepareCall), so this is the input side of
 * the worst case to reserve ahead; later calls of the attempt (asking again with what was
 * wrong) are larger, and are carried by spares shaped like the first.
 */
export function expectedRequestBytes(input: TaskInput): number {
  const prompt = renderPrompt(input);
  const schema = z.toJSONSchema(TASK_OUTPUT_SCHEMAS[input.task.type]);
  return Buffer.byteLength(JSON.stringify([prompt.system, prompt.context, prompt.user, schema])) + ENVELOPE_BYTES;
}
