import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { startupNamespace } from '../../../src/api/index.ts';
import { packTree, renderScaffold, type ConfigMap } from '../../../src/templates/index.ts';
import { loadTemplateDir } from '../../../src/templates/load.ts';
import { localRenderInput } from '../../../src/templates/local.ts';
import { kubeconfigPath, kubectl, uniqueName } from '../../support/cluster.ts';

const CLI = new URL('../../../bin/startup-factory.js', import.meta.url).pathname;
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

function filesUnder(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const p = join(d, entry);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** Deterministic bytes that are not UTF-8, so they must travel as binaryData. */
function noise(size: number, seed: number): Buffer {
  const buf = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    buf[i] = x >>> 24;
  }
  return buf;
}

/** A template big enough to need several ConfigMaps: ~1.8 MB of rendered text plus binaries. */
function largeTemplate(parent: string): string {
  const dir = join(parent, 'large');
  mkdirSync(join(dir, 'files', 'src', 'modules'), { recursive: true });
  mkdirSync(join(dir, 'files', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'template.yaml'), 'name: large\ndescription: a large test template\nframework: test\n');
  const line = '// {{ startup.displayName }} ({{ startup.name }}) in {{ namespace }}: {{ startup.idea }} é ✓\n';
  for (let i = 0; i < 24; i++) writeFileSync(join(dir, 'files', 'src', 'modules', `module_${i}.ts`), line.repeat(700));
  writeFileSync(join(dir, 'files', 'README.md'), '# {{ startup.displayName }}\n\n{{ startup.idea }}\n');
  writeFileSync(join(dir, 'files', 'assets', 'blob.bin'), noise(300_000, 42));
  writeFileSync(join(dir, 'files', 'assets', 'icon.png'), readFileSync(new URL('../../../templates/_shared/brand/icon.png', import.meta.url)));
  return dir;
}

describe('export from the cluster equals the local render', () => {
  const name = uniqueName('export');
  const namespace = startupNamespace(name);
  const work = mkdtempSync(join(tmpdir(), 'sf-export-out-'));
  const spec = { displayName: 'Export {{ 7*7 }} Test', idea: 'Byte-exact scaffolds through ConfigMaps.' };
  let configMaps: ConfigMap[] = [];

  beforeAll(async () => {
    const template = largeTemplate(work);
    const startupFile = join(work, 'startup.yaml');
    writeFileSync(startupFile, YAML.stringify({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', metadata: { name }, spec }));
    const local = cli('render', '--template', template, '--startup', startupFile, '--out', join(work, 'local'));
    expect(local.stderr).toMatch(/rendered large/);
    expect(local.status).toBe(0);

    // What the operator does on provisioning: render, pack, apply to the startup's namespace.
    const loaded = await loadTemplateDir(template);
    configMaps = packTree(renderScaffold(localRenderInput(loaded, name, spec, {})), {
      namespace, labels: { 'app.kubernetes.io/managed-by': 'startup-factory', 'startupfactory.dev/startup': name },
    });
    const ns = await kubectl(['create', 'namespace', namespace]);
    expect(ns.code, ns.stderr).toBe(0);
    // Server-side apply: client-side apply would copy each ~900 KiB object into an annotation.
    const applied = await kubectl(['apply', '--server-side', '--field-manager=startup-factory', '-f', '-'], {
      input: configMaps.map((cm) => YAML.stringify(cm, { lineWidth: 0 })).join('---\n'),
    });
    expect(applied.code, applied.stderr).toBe(0);
  });

  afterAll(async () => {
    await kubectl(['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']);
    rmSync(work, { recursive: true, force: true });
  });

  it('needs several ConfigMaps, with the binary files in binaryData', () => {
    expect(configMaps.length).toBeGreaterThanOrEqual(3);
    expect(configMaps.some((cm) => cm.binaryData?.['assets_2Fblob.bin'])).toBe(true);
  });

  it('rebuilds the tree byte for byte with the export command', () => {
    const exported = cli('export', name, '--out', join(work, 'exported'), '--kubeconfig', kubeconfigPath());
    expect(exported.stderr).toMatch(/exported 27 scaffold files/);
    expect(exported.status).toBe(0);
    const local = filesUnder(join(work, 'local'));
    const fromCluster = filesUnder(join(work, 'exported'));
    expect([...fromCluster.keys()].sort()).toEqual([...local.keys()].sort());
    for (const [path, bytes] of local) expect(fromCluster.get(path)?.equals(bytes), path).toBe(true);
    expect(local.get('README.md')?.toString()).toContain('# Export {{ 7*7 }} Test');
  });

  it('fails in one line for a startup with no scaffold', () => {
    const r = cli('export', uniqueName('none'), '--out', join(work, 'none'), '--kubeconfig', kubeconfigPath());
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/has no rendered scaffold/);
  });
});

describe('built-in templates as StartupTemplate objects', () => {
  // Under names of their own: the cluster may already hold the real built-ins, which are not this test's to change.
  const BUILTINS = ['reactnext', 'vuenuxt', 'fluttermobile'];
  const names = new Map(BUILTINS.map((t) => [t, uniqueName(t)]));

  afterAll(async () => {
    await kubectl(['delete', 'startuptemplates', ...names.values(), '--ignore-not-found']);
  });

  it('are accepted by the API server and listed by kubectl get stpl with framework and description', async () => {
    for (const [template, name] of names) {
      const packed = cli('template', 'pack', template);
      expect(packed.status, packed.stderr).toBe(0);
      const manifest = YAML.parse(packed.stdout);
      expect(manifest.metadata.name).toBe(template);
      manifest.metadata.name = name;
      const applied = await kubectl(['apply', '--server-side', '--field-manager=startup-factory-tests', '-f', '-'], { input: YAML.stringify(manifest) });
      expect(applied.code, applied.stderr).toBe(0);
    }
    const listed = await kubectl(['get', 'stpl', ...names.values()]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${names.get('reactnext')}\\s+.*Next\\.js 16.*nextjs`, 'm'));
    expect(listed.stdout).toMatch(new RegExp(`^${names.get('vuenuxt')}\\s+.*nuxt`, 'm'));
    expect(listed.stdout).toMatch(new RegExp(`^${names.get('fluttermobile')}\\s+.*flutter`, 'm'));
  });
});
