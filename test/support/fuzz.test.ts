import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { aiProviderSpecSchema, startupSpecSchema, startupTemplateSpecSchema } from '../../src/api/index.ts';
import { FUZZ_KINDS, FUZZ_QUOTA, apiPath, baseManifests, generateFuzzCases, mutationMix, type FuzzCase, type FuzzContext, type FuzzKind } from './fuzz.ts';

const ctx: FuzzContext = { prefix: 'fz-unit', labels: { 'test.startupfactory.dev/run': 'unit' }, template: 'tpl-unit', operatorNamespace: 'sf-op-unit', nodePorts: 2 };
const { cases } = generateFuzzCases(20261202, ctx);
const zodSchemas: Record<FuzzKind, z.ZodType> = { Startup: startupSpecSchema, AIProvider: aiProviderSpecSchema, StartupTemplate: startupTemplateSpecSchema };

const label = (c: FuzzCase) => `${c.id} ${c.kind} ${c.mutation}: ${c.what}`;

/** Where zod says a spec is wrong, as the API server would name it (an unknown key is named by itself). */
function zodPaths(c: FuzzCase): string[] {
  const result = zodSchemas[c.kind].safeParse(JSON.parse(JSON.stringify(c.manifest)).spec);
  return (result.error?.issues ?? []).flatMap((issue) => {
    const at = ['spec', ...issue.path];
    return issue.code === 'unrecognized_keys' ? issue.keys.map((key) => apiPath([...at, key])) : [apiPath(at)];
  });
}

describe('generateFuzzCases', () => {
  it('makes the same 500 cases from the same seed, and others from another', () => {
    expect(generateFuzzCases(20261202, ctx).cases).toEqual(cases);
    expect(JSON.stringify(generateFuzzCases(7, ctx).cases)).not.toBe(JSON.stringify(cases));
    expect(cases).toHaveLength(500);
    for (const kind of FUZZ_KINDS) expect(cases.filter((c) => c.kind === kind), kind).toHaveLength(FUZZ_QUOTA[kind]);
    expect(new Set(cases.map((c) => c.id)).size).toBe(500);
    const created = cases.filter((c) => !c.patch && c.expect.by === 'operator').map((c) => `${c.kind}/${c.manifest.metadata.name}`);
    expect(new Set(created).size, 'objects the operator judges have names of their own').toBe(created.length);
  });

  it('spreads the cases over many mutations, none crowding out the rest', () => {
    const mix = mutationMix(cases);
    expect(mix.size).toBeGreaterThanOrEqual(20);
    for (const [mutation, row] of mix) {
      const total = row.Startup + row.AIProvider + row.StartupTemplate;
      expect(total, mutation).toBeLessThanOrEqual(cases.length / 4);
    }
    for (const kind of FUZZ_KINDS) {
      expect([...mix.values()].filter((row) => row[kind] > 0).length, `${kind} mutations`).toBeGreaterThanOrEqual(12);
    }
  });

  it('starts from manifests zod accepts', () => {
    for (const base of baseManifests(ctx)) expect(zodSchemas[base.kind as FuzzKind].safeParse(base.spec).error, base.kind).toBeUndefined();
  });

  // The operator and the CLI judge specs with zod: they must refuse what the API server refuses, at the same field.
  it.each(cases.filter((c) => c.expect.by === 'api' && /^spec($|[.[])/.test(c.expect.path) && !c.patch).map((c) => [label(c), c] as const))(
    'zod refuses %s, naming the field',
    (_label, c) => {
      const path = (c.expect as { path: string }).path;
      const paths = zodPaths(c);
      expect(paths.length, `${label(c)}: zod accepts it`).toBeGreaterThan(0);
      expect(paths.some((p) => p === path || p.startsWith(`${path}.`) || p.startsWith(`${path}[`)), `${label(c)}: zod names ${paths.join(', ')}`).toBe(true);
    },
  );

  it('leaves to the operator only specs zod accepts, but for cycles, which only zod can see', () => {
    for (const c of cases.filter((x) => x.expect.by === 'operator')) {
      const paths = zodPaths(c);
      if (c.mutation === 'cycle') expect(paths, label(c)).toEqual(['spec.pipeline.tasks']);
      else expect(paths, label(c)).toEqual([]);
    }
  });
});
