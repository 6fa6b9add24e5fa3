import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

export type Parameters = Record<string, unknown>;

export class ParameterError extends Error {
  override name = 'ParameterError';
}

/** Draft 2020-12, the dialect the StartupTemplate API documents for `parameters`. */
function newAjv(): Ajv2020 {
  // strict: false because marketplace schemas carry annotations ajv does not know
  // (x-*, examples); `useDefaults` fills in each parameter's declared default.
  const ajv = new Ajv2020({ allErrors: true, useDefaults: true, strict: false, logger: false });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  return ajv;
}

/** Compile a template's parameter schema, or say why it is not one. */
export function compileParameterSchema(schema: unknown): ValidateFunction {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new ParameterError('parameters must be a JSON Schema object');
  }
  const type = (schema as { type?: unknown }).type;
  if (type !== undefined && type !== 'object') throw new ParameterError('parameters schema must have type "object"');
  try {
    return newAjv().compile(schema);
  } catch (err) {
    throw new ParameterError(`parameters schema does not compile: ${(err as Error).message}`);
  }
}

/** `/firebase/projectId` → `firebase.projectId`; the missing or extra property for the errors that name one. */
function parameterName(error: ErrorObject): string {
  const base = error.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  const extra = params.missingProperty ?? params.additionalProperty;
  return [...base, ...(extra !== undefined ? [extra] : [])].join('.');
}

function describe(error: ErrorObject): string {
  const name = parameterName(error);
  const params = error.params as { additionalProperty?: string; allowedValues?: unknown[] };
  let message = error.message ?? 'is invalid';
  if (params.additionalProperty !== undefined) message = 'is not a parameter of this template';
  else if (error.keyword === 'required') message = 'is required';
  else if (params.allowedValues) message = `must be one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return name ? `parameter "${name}" ${message}` : `parameters ${message}`;
}

/**
 * Validate values against the schema and return them with defaults applied (a copy:
 * the caller's object is not touched). Errors name every offending parameter.
 */
export function resolveParameters(schema: unknown, values: Parameters | undefined): Parameters {
  const validate = compileParameterSchema(schema);
  const resolved = structuredClone(values ?? {});
  if (!validate(resolved)) {
    throw new ParameterError((validate.errors ?? []).map(describe).join('; '));
  }
  return resolved;
}
