/**
 * Turns the JSON Schema zod emits into a *structural* OpenAPI v3 schema, the only kind a
 * CRD accepts: every node typed, no references, no `additionalProperties: false` beside
 * `properties`, free-form objects marked to keep their fields, int-or-string in the one
 * shape the API server recognises, and only keywords and formats it knows.
 */
export type JsonSchema = { [key: string]: unknown };

/** Keywords of apiextensions/v1 JSONSchemaProps we keep (besides x-kubernetes-*). */
const KEPT = new Set([
  'description', 'type', 'format', 'title', 'default', 'enum', 'nullable', 'example',
  'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'multipleOf',
  'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'maxProperties', 'minProperties',
  'required', 'items', 'properties', 'additionalProperties',
]);
const COMBINATORS = ['allOf', 'anyOf', 'oneOf', 'not'] as const;

/** Formats the API server validates; others would only draw warnings. */
const FORMATS = new Set([
  'bsonobjectid', 'uri', 'email', 'hostname', 'ipv4', 'ipv6', 'cidr', 'mac', 'uuid', 'uuid3', 'uuid4', 'uuid5',
  'isbn', 'isbn10', 'isbn13', 'creditcard', 'ssn', 'hexcolor', 'rgbcolor', 'byte', 'password', 'date',
  'duration', 'datetime', 'date-time', 'int32', 'int64', 'float', 'double',
]);

/** zod's z.int() bounds; meaningless to the API server, noise in `kubectl explain`. */
const SAFE_INTEGER_BOUND = Number.MAX_SAFE_INTEGER;

export function toStructuralSchema(schema: JsonSchema, path = '<root>'): JsonSchema {
  if ('$ref' in schema) throw new Error(`${path}: $ref is not allowed in a CRD schema (generate with reused: 'inline')`);
  for (const key of COMBINATORS) {
    // Structural schemas allow combinators only around value checks; ours never need them.
    if (key in schema && schema['x-kubernetes-int-or-string'] !== true) {
      throw new Error(`${path}: ${key} is not structural; use an enum, or mark the field x-kubernetes-int-or-string`);
    }
  }
  if (schema['x-kubernetes-int-or-string'] === true) return intOrString(schema);

  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!KEPT.has(key) && !key.startsWith('x-kubernetes-')) continue;
    out[key] = value;
  }
  if (out.type === 'integer') {
    if (out.minimum === -SAFE_INTEGER_BOUND) delete out.minimum;
    if (out.maximum === SAFE_INTEGER_BOUND) delete out.maximum;
  }
  if (typeof out.format === 'string') {
    // zod pairs a format with a JavaScript-only regex (date-time): the format alone is the check.
    if (out.format === 'date-time') delete out.pattern;
    if (!FORMATS.has(out.format)) delete out.format;
  }
  if (isObject(out.properties)) {
    out.properties = Object.fromEntries(
      Object.entries(out.properties).map(([name, child]) => [name, toStructuralSchema(child as JsonSchema, `${path}.${name}`)]),
    );
  }
  if ('additionalProperties' in out) {
    const additional = out.additionalProperties;
    delete out.additionalProperties;
    if (isObject(additional) && Object.keys(additional).length > 0) {
      out.additionalProperties = toStructuralSchema(additional as JsonSchema, `${path}.*`);
    } else if ((additional === true || isObject(additional)) && !isObject(out.properties)) {
      out['x-kubernetes-preserve-unknown-fields'] = true;
    }
  }
  if (isObject(out.items)) out.items = toStructuralSchema(out.items as JsonSchema, `${path}[]`);
  if (out.type === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    throw new Error(`${path}: every node of a structural schema needs a type`);
  }
  return ordered(out);
}

/** Description and type first, children last: the generated YAML reads like a hand-written CRD. */
const ORDER = ['description', 'type', 'format', 'enum', 'default', 'nullable'];
const LAST = ['properties', 'additionalProperties', 'items', 'required'];

function ordered(schema: JsonSchema): JsonSchema {
  const rank = (key: string) => {
    if (ORDER.includes(key)) return ORDER.indexOf(key);
    if (LAST.includes(key)) return 100 + LAST.indexOf(key);
    return key.startsWith('x-kubernetes-') ? 50 : 10;
  };
  return Object.fromEntries(Object.entries(schema).sort(([a], [b]) => rank(a) - rank(b)));
}

/** Bounds of a string that OpenAPI checks of string values only, so they may stand beside an int-or-string's anyOf. */
const STRING_BOUNDS = ['minLength', 'maxLength', 'pattern'] as const;

function intOrString(schema: JsonSchema): JsonSchema {
  // The anyOf must be exactly integer-or-string, so the string branch's bounds move up to the
  // node (as controller-gen puts a Quantity's pattern there); without them the API server
  // would take strings zod refuses.
  const string = (schema.anyOf as JsonSchema[] | undefined)?.find((branch) => branch.type === 'string') ?? {};
  const out: JsonSchema = {};
  const copy = (key: string, from: JsonSchema) => { if (key in from) out[key] = from[key]; };
  copy('description', schema);
  copy('default', schema);
  for (const key of STRING_BOUNDS) copy(key, string);
  copy('x-kubernetes-validations', schema);
  return { ...out, anyOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true };
}

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
