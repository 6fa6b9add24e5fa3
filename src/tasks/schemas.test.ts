import { zodResponseFormat } from 'openai/helpers/zod';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { TASK_TYPES } from '../api/index.ts';
import type { WorkItem } from './input.ts';
import { TASK_OUTPUT_SCHEMAS, type DecomposeOutput } from './schemas.ts';

type JsonSchema = { [key: string]: unknown };

/** Where the strict structured-output subset is broken, as JSON pointers; empty when it is kept. */
function strictnessProblems(node: unknown, at = ''): string[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => strictnessProblems(item, `${at}/${i}`));
  if (node === null || typeof node !== 'object') return [];
  const schema = node as JsonSchema;
  const problems: string[] = [];
  if (schema.type === 'object') {
    const properties = Object.keys((schema.properties ?? {}) as object);
    if (schema.additionalProperties !== false) problems.push(`${at}: additionalProperties is not false`);
    const required = new Set(schema.required as string[] | undefined);
    for (const p of properties) if (!required.has(p)) problems.push(`${at}/properties/${p}: not required`);
    if (properties.length === 0) problems.push(`${at}: an object without properties`);
  }
  for (const banned of ['anyOf', 'oneOf', 'allOf', 'minLength', 'maxLength', 'minItems', 'maxItems', 'minimum', 'maximum', 'pattern', 'format']) {
    if (banned in schema) problems.push(`${at}: uses ${banned}`);
  }
  for (const [key, value] of Object.entries(schema)) {
    // Under `properties` the keys are field names, which may be anything, not keywords.
    const children = key === 'properties' ? Object.entries(value as object).map(([name, p]) => [`${key}/${name}`, p] as const) : [[key, value] as const];
    for (const [path, child] of children) problems.push(...strictnessProblems(child, `${at}/${path}`));
  }
  return problems;
}

function undescribed(node: unknown, at = ''): string[] {
  if (node === null || typeof node !== 'object') return [];
  const schema = node as JsonSchema;
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  return [
    ...Object.entries(properties).filter(([, p]) => typeof p.description !== 'string').map(([name]) => `${at}/${name}`),
    ...Object.entries(properties).flatMap(([name, p]) => undescribed(p.type === 'array' ? p.items : p, `${at}/${name}`)),
  ];
}

describe('task output schemas', () => {
  it.each(TASK_TYPES)('%s converts to a strict JSON Schema with every field described', (type) => {
    const schema = z.toJSONSchema(TASK_OUTPUT_SCHEMAS[type]);
    expect(schema.type).toBe('object');
    expect(strictnessProblems(schema)).toEqual([]);
    expect(undescribed(schema)).toEqual([]);
  });

  it.each(TASK_TYPES)('%s converts to an OpenAI strict response format', (type) => {
    const format = zodResponseFormat(TASK_OUTPUT_SCHEMAS[type], type);
    expect(format.json_schema.strict).toBe(true);
    expect(strictnessProblems(format.json_schema.schema)).toEqual([]);
  });

  it('gives work items exactly the WorkItem shape tasks receive', () => {
    expectTypeOf<DecomposeOutput['workItems'][number]>().toEqualTypeOf<WorkItem>();
  });

  it('the strictness check itself catches optional fields, records and bounds', () => {
    const loose = z.object({ a: z.string().optional(), b: z.record(z.string(), z.string()), c: z.array(z.string()).max(3) });
    expect(strictnessProblems(z.toJSONSchema(loose))).toEqual(expect.arrayContaining([
      '/properties/a: not required',
      expect.stringMatching(/^\/properties\/b/),
      '/properties/c: uses maxItems',
    ]));
  });
});
