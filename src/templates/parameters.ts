import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { LRUCache } from 'lru-cache';

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

/**
 * Compiled schemas by their JSON. A compile (an Ajv with its formats, then code generated
 * and evaluated) costs tens of milliseconds, and every Startup of a template resolves the
 * same schema several times (the input hash, the render, the packing): compiled once per
 * process instead, it is no longer most of the operator's CPU while Startups provision.
 * Bounded, as templates come and go.
 */
const compiled = new LRUCache<string, ValidateFunction>({ max: 64 });

/** Compile a template's parameter schema, or say why it is not one. */
export function compileParameterSchema(schema: unknown): ValidateFunction {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new ParameterError('parameters must be a JSON Schema object');
  }
  const type = (schema as { type?: unknown }).type;
  if (type !== undefined && type !== 'object') throw new ParameterError('parameters schema must have type "object"');
  const key = JSON.stringify(schema);
  const known = compiled.get(key);
  if (known) return known;
  try {
    const validate = newAjv().compile(schema);
    compiled.set(key, validate);
    return validate;
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
