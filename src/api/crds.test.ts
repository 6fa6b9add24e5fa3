import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KINDS, crdFor, renderCrdFiles } from './crds.ts';
import type { JsonSchema } from './structural.ts';

type Node = JsonSchema & { properties?: Record<string, Node>; items?: Node };

/** Every schema node with its dotted path. */
function* walk(node: Node, path: string): Generator<[string, Node]> {
  yield [path, node];
  for (const [name, child] of Object.entries(node.properties ?? {})) yield* walk(child, `${path}.${name}`);
  if (node.items) yield* walk(node.items, `${path}[]`);
}

const rootOf = (kind: string) => {
  const def = KINDS.find((k) => k.kind === kind)!;
  const crd = crdFor(def) as { spec: { versions: { schema: { openAPIV3Schema: Node } }[] } };
  return crd.spec.versions[0]!.schema.openAPIV3Schema;
};

describe('committed CRDs', () => {
  it.each(renderCrdFiles())('crds/$file matches the zod schemas (run npm run crds)', ({ file, yaml }) => {
    const committed = readFileSync(new URL(`../../crds/${file}`, import.meta.url), 'utf8');
    expect(committed).toBe(yaml);
  });
});

describe.each(KINDS.map((k) => k.kind))('%s CRD', (kind) => {
  const root = rootOf(kind);

  it('describes every field, so kubectl explain teaches', () => {
    const undocumented = [...walk(root.properties!.spec!, 'spec'), ...walk(root.properties!.status!, 'status')]
      .filter(([path, node]) => !path.endsWith('[]') && typeof node.description !== 'string')
      .map(([path]) => path);
    expect(undocumented).toEqual([]);
  });

  it('bounds every spec string and list, so CEL cost estimation passes', () => {
    const unbounded = [...walk(root.properties!.spec!, 'spec')]
      .filter(([, node]) => (node.type === 'string' && node.maxLength === undefined && !node.enum)
        || (node.type === 'array' && node.maxItems === undefined))
      .map(([path]) => path);
    expect(unbounded).toEqual([]);
  });

  it('is structural: every node typed, or int-or-string, or free-form', () => {
    for (const [path, node] of walk(root, kind)) {
      const typed = typeof node.type === 'string' || node['x-kubernetes-int-or-string'] === true;
      expect(typed, path).toBe(true);
      expect(node, path).not.toHaveProperty('$ref');
      if (node.properties) expect(node, path).not.toHaveProperty('additionalProperties');
    }
  });

  it('writes CEL rules without backslashes, which CEL string literals mostly refuse', () => {
    const rules = [...walk(root, kind)].flatMap(([, node]) => (node['x-kubernetes-validations'] as { rule: string }[] | undefined) ?? []);
    expect(rules.filter((r) => r.rule.includes('\\'))).toEqual([]);
  });

  it('keys conditions by type', () => {
    expect(root.properties!.status!.properties!.conditions).toMatchObject({
      'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'],
    });
  });
});

describe('Startup CRD', () => {
  const crd = parse(renderCrdFiles().find((f) => f.file === 'startups.startupfactory.dev.yaml')!.yaml);
  const version = crd.spec.versions[0];
  const spec = version.schema.openAPIV3Schema.properties.spec;

  it('is cluster-scoped with short name, category and status subresource', () => {
    expect(crd.spec).toMatchObject({ group: 'startupfactory.dev', scope: 'Cluster' });
    expect(crd.spec.names).toMatchObject({ kind: 'Startup', plural: 'startups', shortNames: ['su'], categories: ['startupfactory'] });
    expect(version).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
  });

  it('prints phase, template, namespace, cost and age', () => {
    const columns = version.additionalPrinterColumns.map((c: { name: string }) => c.name.toUpperCase());
    expect(columns).toEqual(expect.arrayContaining(['PHASE', 'TEMPLATE', 'NAMESPACE', 'COST', 'AGE']));
  });

  it('defaults resources, quota, expose, suspend and priority', () => {
    expect(spec.properties.resources.default).toEqual({});
    expect(spec.properties.resources.properties.memory.default).toBe('512Mi');
    expect(spec.properties.resources.properties.cpu.default).toBe('500m');
    expect(spec.properties.resources.properties.storage.default).toBe('2Gi');
    expect(spec.properties.ai.default).toEqual({});
    expect(spec.properties.ai.properties.quota.properties.callsPerHour.default).toBe(1000);
    expect(spec.properties.ai.properties.quota.properties.costPerDay.default).toBe('15.00');
    expect(spec.properties.expose.default).toBe('ClusterIP');
    expect(spec.properties.priority.default).toBe(0);
  });

  it('bounds a quantity written as a string as zod does, so the API server takes no quantity the operator refuses', () => {
    for (const name of ['memory', 'cpu', 'storage']) {
      expect(spec.properties.resources.properties[name], name).toMatchObject({ maxLength: 32, 'x-kubernetes-int-or-string': true });
    }
  });

  it('makes spec.template immutable with a transition rule', () => {
    expect(spec.properties.template['x-kubernetes-validations']).toEqual([
      expect.objectContaining({ rule: 'self == oldSelf' }),
    ]);
    expect(spec.required).toEqual(expect.arrayContaining(['template', 'displayName']));
  });

  it('keys services and tasks by name', () => {
    expect(spec.properties.services).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] });
    expect(spec.properties.pipeline.properties.tasks).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] });
  });
});

describe('StartupTemplate and AIProvider CRDs', () => {
  const columns = (file: string) => parse(renderCrdFiles().find((f) => f.file === file)!.yaml)
    .spec.versions[0].additionalPrinterColumns.map((c: { name: string }) => c.name.toUpperCase());

  it('print what kubectl get stpl and kubectl get aip promise', () => {
    expect(columns('startuptemplates.startupfactory.dev.yaml')).toEqual(expect.arrayContaining(['DESCRIPTION', 'FRAMEWORK', 'READY']));
    expect(columns('aiproviders.startupfactory.dev.yaml')).toEqual(expect.arrayContaining(['TYPE', 'MODEL', 'READY']));
  });

  it('keep template parameters as written', () => {
    expect(rootOf('StartupTemplate').properties!.spec!.properties!.parameters)
      .toMatchObject({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
  });
});
