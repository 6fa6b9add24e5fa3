/** Shared steps of the chart tests: rendering the chart and validating manifests with kubeconform. */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { helm, kubectl, toolPath } from '../../support/cluster.ts';
import { crdSchemas, openApiV3Path, openApiV3Schemas, schemaLocation, writeSchemas } from './kubeconform-schemas.ts';

export const repoRoot = join(import.meta.dirname, '..', '..', '..');
export const chartPath = join(repoRoot, 'charts', 'startup-factory');

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
};

export function parseManifests(yamlText: string): Manifest[] {
  return parseAllDocuments(yamlText)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

/** The server's version, so `helm template` renders for the cluster the tests run against. */
export async function serverVersion(): Promise<string> {
  const res = await kubectl(['version', '-o', 'json']);
  if (res.code !== 0) throw new Error(`kubectl version: ${res.stderr}`);
  const { serverVersion: v } = JSON.parse(res.stdout) as { serverVersion: { gitVersion: string } };
  return v.gitVersion.replace(/^v/, '').replace(/[-+].*$/, '');
}

export async function helmTemplate(release: string, namespace: string, extraArgs: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return helm(['template', release, chartPath, '--namespace', namespace, '--kube-version', await serverVersion(), ...extraArgs]);
}

/** A temporary directory removed when the current test finishes. */
export async function scratchDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A directory of strict kubeconform schemas for every apiVersion in `manifests`: our kinds
 * from the repository's CRD files, the rest from the API server's OpenAPI v3 documents.
 */
export async function schemaDirFor(manifests: Manifest[]): Promise<string> {
  const dir = await scratchDir('sf-kubeconform-');
  const ownGroups = new Set<string>();
  const crdDir = join(repoRoot, 'crds');
  for (const file of (await readdir(crdDir)).filter((f) => f.endsWith('.yaml'))) {
    const crd = parseManifests(await readFile(join(crdDir, file), 'utf8'))[0] as unknown as Parameters<typeof crdSchemas>[0];
    ownGroups.add(crd.spec.group);
    await writeSchemas(dir, crdSchemas(crd));
  }
  const apiVersions = new Set(manifests.map((m) => m.apiVersion).filter((v) => !ownGroups.has(v.split('/')[0]!)));
  for (const apiVersion of apiVersions) {
    const res = await kubectl(['get', '--raw', openApiV3Path(apiVersion)]);
    if (res.code !== 0) throw new Error(`OpenAPI for ${apiVersion}: ${res.stderr}`);
    await writeSchemas(dir, openApiV3Schemas(JSON.parse(res.stdout)));
  }
  return dir;
}

export type KubeconformSummary = { valid: number; invalid: number; errors: number; skipped: number };

/** kubeconform -strict over YAML on stdin, refusing any kind it has no schema for. */
export async function kubeconform(yamlText: string, schemaDir: string): Promise<{ code: number; output: string; summary: KubeconformSummary }> {
  const args = ['-strict', '-summary', '-output', 'json', '-schema-location', schemaLocation(schemaDir), '-'];
  const child = spawn(toolPath('kubeconform'), args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stdin.end(yamlText);
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 1));
  });
  const parsed = JSON.parse(output) as { summary: KubeconformSummary };
  return { code, output, summary: parsed.summary };
}
