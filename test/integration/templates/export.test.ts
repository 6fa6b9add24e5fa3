import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { startupNamespace, type Startup } from '../../../src/api/index.ts';
import { renderScaffold, SCAFFOLD_LABEL, type ConfigMap } from '../../../src/templates/index.ts';
import { loadTemplateDir } from '../../../src/templates/load.ts';
import { localRenderInput } from '../../../src/templates/local.ts';
import { kubeconfigPath, kubectl, uniqueName, waitFor } from '../../support/cluster.ts';
import { apply, isProvisioned, startFactory, type TestFactory } from '../../support/factory.ts';

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

/**
 * A template big enough to need several ConfigMaps (~1.8 MB of rendered text, from loops,
 * so the StartupTemplate object itself stays small) plus binaries, whose README shows the
 * allocation: namespace, every service's port and node port, the database.
 */
function largeTemplate(parent: string, name: string): string {
  const dir = join(parent, 'large');
  mkdirSync(join(dir, 'files', 'src', 'modules'), { recursive: true });
  mkdirSync(join(dir, 'files', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'template.yaml'), `name: ${name}\ndescription: a large test template\nframework: test\n`);
  const line = '// {{ startup.displayName }} ({{ startup.name }}) in {{ namespace }}: {{ startup.idea }} é ✓ {{ i }}\n';
  for (let i = 0; i < 24; i++) writeFileSync(join(dir, 'files', 'src', 'modules', `module_${i}.ts`), `{% for i in range(700) %}${line}{% endfor %}`);
  writeFileSync(join(dir, 'files', 'README.md'), [
    '# {{ startup.displayName }}', '', '{{ startup.idea }}', '',
    'Namespace {{ namespace }}, database {{ database.name }}.',
    '{% for s in serviceList %}- {{ s.name }}: port {{ s.port }}{% if s.nodePort %}, node port {{ s.nodePort }}{% endif %}',
    '{% endfor %}',
  ].join('\n'));
  writeFileSync(join(dir, 'files', 'assets', 'blob.bin'), noise(300_000, 42));
  writeFileSync(join(dir, 'files', 'assets', 'icon.png'), readFileSync(new URL('../../../templates/_shared/brand/icon.png', import.meta.url)));
  return dir;
}

function expectSameTree(actual: Map<string, Buffer>, expected: Map<string, Buffer>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [path, bytes] of expected) expect(actual.get(path)?.equals(bytes), path).toBe(true);
}

// Three node ports of this file's own, for the one NodePort Startup.
const POOL = { first: 31700, last: 31702 };

describe('export of what the operator wrote equals the render', () => {
  const work = mkdtempSync(join(tmpdir(), 'sf-export-out-'));
  const templateName = uniqueName('large');
  const template = largeTemplate(work, templateName);
  const spec = { displayName: 'Export {{ 7*7 }} Test', idea: 'Byte-exact scaffolds through ConfigMaps.', template: templateName };
  const plain = uniqueName('export');
  const exposed = uniqueName('export-np');
  let factory: TestFactory;
  const reconciled = new Map<string, Startup>();

  beforeAll(async () => {
    // The Startup controller alone: provisioning renders the scaffold; no pipeline, so no plan documents join the export.
    factory = await startFactory(['--leader-elect', 'false', '--node-port-range', `${POOL.first}-${POOL.last}`], { startupControllerOnly: true });
    const packed = cli('template', 'pack', template);
    expect(packed.status, packed.stderr).toBe(0);
    const applied = await kubectl(['apply', '--server-side', '--field-manager=startup-factory-tests', '-f', '-'], { input: packed.stdout });
    expect(applied.code, applied.stderr).toBe(0);
    await apply([factory.manifest(plain, spec), factory.manifest(exposed, { ...spec, expose: 'NodePort' })]);
    for (const name of [plain, exposed]) {
      reconciled.set(name, await waitFor(`${name} provisioned and rendered`, async () => { const s = await factory.get(name); return isProvisioned(s) && s; }, 120_000));
    }
  });

  afterAll(async () => {
    await factory?.cleanup();
    await kubectl(['delete', 'startuptemplate', templateName, '--ignore-not-found', '--wait=false']);
    rmSync(work, { recursive: true, force: true });
  });

  it('needs several ConfigMaps, with the binary files in binaryData', async () => {
    const { items } = await factory.client.list<ConfigMap>('v1', 'ConfigMap', { namespace: startupNamespace(plain), labelSelector: `${SCAFFOLD_LABEL}=true` });
    expect(items.length).toBeGreaterThanOrEqual(3);
    expect(items.some((cm) => cm.binaryData?.['assets_2Fblob.bin'])).toBe(true);
  });

  it('rebuilds a ClusterIP Startup\'s tree byte for byte, as `startup-factory render` of its manifest makes it', () => {
    const manifest = join(work, 'plain.yaml');
    writeFileSync(manifest, factory.manifest(plain, spec));
    const local = cli('render', '--template', template, '--startup', manifest, '--out', join(work, 'local'));
    expect(local.stderr).toMatch(new RegExp(`rendered ${templateName}`));
    expect(local.status).toBe(0);
    const exported = cli('export', plain, '--out', join(work, 'exported'), '--kubeconfig', kubeconfigPath());
    expect(exported.stderr).toMatch(/exported 27 scaffold files/);
    expect(exported.status).toBe(0);
    const rendered = filesUnder(join(work, 'local'));
    expectSameTree(filesUnder(join(work, 'exported')), rendered);
    expect(rendered.get('README.md')?.toString()).toContain('# Export {{ 7*7 }} Test');
  });

  it('rebuilds a NodePort Startup\'s tree byte for byte, as the render with its allocation makes it', async () => {
    const startup = reconciled.get(exposed)!;
    const allocation = startup.status!.allocation!;
    expect(allocation.nodePorts).toHaveLength(3);
    const exported = cli('export', exposed, '--out', join(work, 'exported-np'), '--kubeconfig', kubeconfigPath());
    expect(exported.status, exported.stderr).toBe(0);
    const tree = filesUnder(join(work, 'exported-np'));
    const input = { ...localRenderInput(await loadTemplateDir(template), exposed, { ...spec, expose: 'NodePort' }, {}), allocation };
    expectSameTree(tree, renderScaffold(input));
    // The allocation is in it: what a render without one (the CLI's) would not have written.
    const readme = tree.get('README.md')!.toString();
    for (const s of allocation.services!) expect(readme).toContain(`- ${s.name}: port ${s.port}, node port ${s.nodePort}`);
    expect(readme).toContain(`Namespace ${allocation.namespace}, database ${allocation.databaseName}.`);
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
