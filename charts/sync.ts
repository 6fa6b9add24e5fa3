/**
 * Keeps the Helm chart's generated files in step with their single sources: the CRDs in
 * `crds/`, the built-in templates packed from `templates/<name>`, and the version in
 * package.json. `npm run chart:sync` writes them; test/unit/chart-sync.test.ts fails when
 * the committed chart has drifted.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const chartDir = join(repoRoot, 'charts', 'startup-factory');

/** Chart directories whose contents are entirely generated: a file not expected there is stale. */
export const generatedDirs = ['crds', 'files/builtin-templates'];

export const BUILTIN_TEMPLATES = ['reactnext', 'vuenuxt', 'fluttermobile'] as const;

async function yamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  return entries.filter((f) => f.endsWith('.yaml')).sort();
}

async function packTemplate(name: string): Promise<string> {
  const { stdout } = await run(process.execPath, [join(repoRoot, 'bin', 'startup-factory.js'), 'template', 'pack', join('templates', name)], {
    cwd: repoRoot,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** Chart.yaml with version and appVersion set to the package's version. */
export function withVersion(chartYaml: string, version: string): string {
  return chartYaml
    .replace(/^version: .*$/m, `version: ${version}`)
    .replace(/^appVersion: .*$/m, `appVersion: "${version}"`);
}

/** Every generated chart file, by path relative to the chart, with the content it must have. */
export async function expectedChartFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const file of await yamlFiles(join(repoRoot, 'crds'))) {
    files.set(join('crds', file), await readFile(join(repoRoot, 'crds', file), 'utf8'));
  }
  const present = new Set(await readdir(join(repoRoot, 'templates')).catch(() => [] as string[]));
  for (const name of BUILTIN_TEMPLATES.filter((n) => present.has(n))) {
    files.set(join('files', 'builtin-templates', `${name}.yaml`), await packTemplate(name));
  }
  const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  files.set('Chart.yaml', withVersion(await readFile(join(chartDir, 'Chart.yaml'), 'utf8'), pkg.version));
  return files;
}

/** Paths under the generated directories that exist in the chart but are no longer produced. */
export async function staleChartFiles(expected: Map<string, string>): Promise<string[]> {
  const stale: string[] = [];
  for (const dir of generatedDirs) {
    for (const file of await yamlFiles(join(chartDir, dir))) {
      if (!expected.has(join(dir, file))) stale.push(join(dir, file));
    }
  }
  return stale;
}

async function sync(): Promise<void> {
  const expected = await expectedChartFiles();
  for (const path of await staleChartFiles(expected)) {
    await rm(join(chartDir, path));
    process.stdout.write(`removed ${relative(repoRoot, join(chartDir, path))}\n`);
  }
  for (const [path, content] of expected) {
    const target = join(chartDir, path);
    const current = await readFile(target, 'utf8').catch(() => undefined);
    if (current === content) continue;
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
    process.stdout.write(`wrote ${relative(repoRoot, target)}\n`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  sync().catch((err: unknown) => {
    process.stderr.write(`chart:sync: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
    process.exitCode = 1;
  });
}
