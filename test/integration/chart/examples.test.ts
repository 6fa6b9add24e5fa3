import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_TEMPLATES } from '../../../charts/sync.ts';
import { loadTemplateDir, resolveParameters } from '../../../src/templates/index.ts';
import { kubectl } from '../../support/cluster.ts';
import { type Manifest, kubeconform, parseManifests, repoRoot, schemaDirFor } from './render.ts';

const examplesDir = join(repoRoot, 'examples');
/** Where the examples' provider Secrets live: the operator's default namespace. */
const operatorNamespace = 'startup-factory';

let files: Map<string, Manifest[]>;
const all = () => [...files.values()].flat();
const ofKind = (kind: string) => all().filter((m) => m.kind === kind);

beforeAll(async () => {
  files = new Map();
  for (const file of (await readdir(examplesDir)).filter((f) => f.endsWith('.yaml')).sort()) {
    files.set(file, parseManifests(await readFile(join(examplesDir, file), 'utf8')));
  }
});

describe('examples', () => {
  it('cover the fintech test-startup, a NodePort startup and every provider type', () => {
    const fintech = ofKind('Startup').find((s) => s.metadata.name === 'test-startup') as Manifest & { spec: Record<string, unknown> };
    expect(fintech.spec).toMatchObject({ industry: 'fintech', category: 'payments', template: 'reactnext' });
    expect(fintech.spec).toHaveProperty('founder.name');
    expect(fintech.spec).toHaveProperty('resources.memory');
    expect(fintech.spec).toHaveProperty('ai.quota.costPerDay');
    expect(ofKind('Startup').some((s) => (s as Manifest & { spec: { expose?: string } }).spec.expose === 'NodePort')).toBe(true);
    const types = ofKind('AIProvider').map((p) => (p as Manifest & { spec: { type: string } }).spec.type).sort();
    expect(types).toEqual(['anthropic', 'offline', 'openai', 'openai-compatible']);
  });

  it('refer only to things the examples and the chart provide', () => {
    const providers = new Set(ofKind('AIProvider').map((p) => p.metadata.name));
    const secrets = new Set(ofKind('Secret').map((s) => `${s.metadata.namespace}/${s.metadata.name}`));
    for (const startup of ofKind('Startup') as (Manifest & { spec: { template: string; ai?: { providers?: string[] } } })[]) {
      expect(BUILTIN_TEMPLATES, startup.metadata.name).toContain(startup.spec.template);
      for (const provider of startup.spec.ai?.providers ?? []) expect(providers, startup.metadata.name).toContain(provider);
    }
    for (const provider of ofKind('AIProvider') as (Manifest & { spec: { secretRef?: { namespace?: string; name: string } } })[]) {
      const ref = provider.spec.secretRef;
      if (ref) expect(secrets, provider.metadata.name).toContain(`${ref.namespace ?? operatorNamespace}/${ref.name}`);
    }
  });

  it('give their templates valid parameters', async () => {
    for (const startup of ofKind('Startup') as (Manifest & { spec: { template: string; values?: Record<string, unknown> } })[]) {
      const { spec } = await loadTemplateDir(join(repoRoot, 'templates', startup.spec.template));
      expect(() => resolveParameters(spec.parameters, startup.spec.values), startup.metadata.name).not.toThrow();
    }
  });

  it('pass kubeconform -strict against the CRD schemas', async () => {
    const yamlText = (await Promise.all([...files.keys()].map((f) => readFile(join(examplesDir, f), 'utf8')))).join('\n---\n');
    const result = await kubeconform(yamlText, await schemaDirFor(all()));
    expect(result.code, result.output).toBe(0);
    expect(result.summary).toEqual({ valid: all().length, invalid: 0, errors: 0, skipped: 0 });
  });

  it('are accepted by the API server (kubectl apply --dry-run=server)', async () => {
    // The provider Secrets belong in the operator's namespace, which must exist for a
    // namespaced dry run; it is shared infrastructure, so it is created if absent and kept.
    const ns = await kubectl(['create', 'namespace', operatorNamespace]);
    expect(ns.code === 0 || ns.stderr.includes('AlreadyExists'), ns.stderr).toBe(true);
    const res = await kubectl(['apply', '--dry-run=server', '-f', examplesDir]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.match(/\(server dry run\)/g)).toHaveLength(all().length);
  });
});
