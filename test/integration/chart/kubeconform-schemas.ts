/**
 * JSON schemas for kubeconform, made offline: our kinds from the CRD files, the built-in
 * kinds from the API server's own OpenAPI v3 documents. kubeconform's -strict only
 * refuses duplicate keys; refusing unknown fields is up to the schema, so every object
 * schema that lists its properties gets `additionalProperties: false` here, as the
 * published "-strict" schema sets do.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

type Schema = { [key: string]: unknown };

/** The -schema-location template for a directory of files written by writeSchemas. */
export const schemaLocation = (dir: string) => join(dir, '{{ .ResourceKind }}{{ .KindSuffix }}.json');

/** The file name kubeconform derives for a kind: kind, first label of the group, version. */
export function schemaFileName(kind: string, apiVersion: string): string {
  const [groupOrVersion, version] = apiVersion.split('/') as [string, string | undefined];
  const suffix = version === undefined ? groupOrVersion : `${groupOrVersion.split('.')[0]}-${version}`;
  return `${kind.toLowerCase()}-${suffix.toLowerCase()}.json`;
}

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Rewrites OpenAPI 3.0 idioms into plain JSON Schema and closes every object that lists its
 * properties. Objects that keep unknown fields on purpose (x-kubernetes-preserve-unknown-fields,
 * e.g. a template's parameter schema) stay open.
 */
export function toStrictJsonSchema(schema: Schema, refPrefix = '#/components/schemas/'): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref' && typeof value === 'string') out.$ref = value.replace(refPrefix, '#/definitions/');
    else if ((key === 'properties' || key === 'definitions') && isSchema(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isSchema(v) ? toStrictJsonSchema(v, refPrefix) : v]));
    } else if ((key === 'items' || key === 'additionalProperties' || key === 'not') && isSchema(value)) {
      out[key] = toStrictJsonSchema(value, refPrefix);
    } else if ((key === 'allOf' || key === 'anyOf' || key === 'oneOf') && Array.isArray(value)) {
      out[key] = value.map((v: unknown) => (isSchema(v) ? toStrictJsonSchema(v, refPrefix) : v));
    } else if (key !== 'nullable' && key !== 'x-kubernetes-validations') out[key] = value;
  }
  if (schema['x-kubernetes-int-or-string'] === true && out.type === undefined && out.anyOf === undefined && out.oneOf === undefined) {
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (schema.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  if (isSchema(out.properties) && out.additionalProperties === undefined && schema['x-kubernetes-preserve-unknown-fields'] !== true) {
    out.additionalProperties = false;
  }
  return out;
}

type Crd = {
  kind: string;
  spec: { group: string; names: { kind: string }; versions: { name: string; served: boolean; schema?: { openAPIV3Schema?: Schema } }[] };
};

/** One schema file per served version of a CustomResourceDefinition. */
export function crdSchemas(crd: Crd): Map<string, Schema> {
  const files = new Map<string, Schema>();
  for (const version of crd.spec.versions.filter((v) => v.served)) {
    const root = version.schema?.openAPIV3Schema;
    if (!root) throw new Error(`CRD ${crd.spec.names.kind} ${version.name} has no openAPIV3Schema`);
    files.set(schemaFileName(crd.spec.names.kind, `${crd.spec.group}/${version.name}`), toStrictJsonSchema(root));
  }
  return files;
}

type GroupVersionKind = { group: string; version: string; kind: string };

/** Names of the component schemas a schema reaches through $ref, transitively. */
function reachable(start: Schema, components: Record<string, Schema>): Set<string> {
  const seen = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!isSchema(node)) return;
    const ref = node.$ref;
    if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) {
      const name = ref.slice('#/components/schemas/'.length);
      if (!seen.has(name) && components[name]) {
        seen.add(name);
        visit(components[name]);
      }
    }
    Object.values(node).forEach(visit);
  };
  visit(start);
  return seen;
}

/**
 * One self-contained schema file per kind of an API server OpenAPI v3 group-version
 * document (`/openapi/v3/api/v1`, `/openapi/v3/apis/<group>/<version>`). References stay
 * references, into a `definitions` section holding only what the kind reaches, so
 * recursive types need no inlining.
 */
export function openApiV3Schemas(doc: { components?: { schemas?: Record<string, Schema> } }): Map<string, Schema> {
  const components = doc.components?.schemas ?? {};
  const files = new Map<string, Schema>();
  for (const schema of Object.values(components)) {
    const gvks = schema['x-kubernetes-group-version-kind'] as GroupVersionKind[] | undefined;
    if (!gvks || gvks.length !== 1) continue; // meta types such as DeleteOptions list every group: not top-level kinds
    const { group, version, kind } = gvks[0]!;
    const definitions = Object.fromEntries([...reachable(schema, components)].map((name) => [name, components[name]!]));
    files.set(schemaFileName(kind, group ? `${group}/${version}` : version), toStrictJsonSchema({ ...schema, definitions }));
  }
  return files;
}

/** The OpenAPI v3 path that documents an apiVersion. */
export const openApiV3Path = (apiVersion: string) => (apiVersion.includes('/') ? `/openapi/v3/apis/${apiVersion}` : `/openapi/v3/api/${apiVersion}`);

export async function writeSchemas(dir: string, schemas: Map<string, Schema>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [file, schema] of schemas) await writeFile(join(dir, file), JSON.stringify(schema));
}
