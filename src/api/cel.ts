import type { z } from 'zod';

/** One `x-kubernetes-validations` entry, as the API server reads it. */
export type CelValidation = {
  rule: string;
  message: string;
  fieldPath?: string;
  /** FieldValueDuplicate is left out on purpose: the API server prints no message with it. */
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired';
};

/**
 * A CEL rule and, unless it is a transition rule (which only the API server can judge, as
 * it needs the old object), the same check in TypeScript, so the CLI and the operator
 * refuse exactly what the API server refuses.
 */
export type Rule<T> = CelValidation & { check?: (value: T) => boolean };

const KEY = 'x-kubernetes-validations';

/**
 * Attaches CEL rules to a zod schema through its metadata (the CRD generator copies them
 * into the OpenAPI schema) and registers their TypeScript twins as refinements.
 */
export function withRules<S extends z.ZodType>(schema: S, rules: Rule<z.output<S>>[]): S {
  let out = schema;
  for (const { check, message, fieldPath } of rules) {
    if (!check) continue;
    out = out.refine(check, { message, path: zodPath(fieldPath) }) as S;
  }
  const meta = out.meta() ?? {};
  const existing = (meta[KEY] as CelValidation[] | undefined) ?? [];
  const validations = rules.map(({ check: _check, ...validation }) => validation);
  return out.meta({ ...meta, [KEY]: [...existing, ...validations] }) as S;
}

/** `.a.b` (a CEL fieldPath) as a zod issue path. */
function zodPath(fieldPath: string | undefined): string[] {
  return fieldPath ? fieldPath.split('.').filter(Boolean) : [];
}
