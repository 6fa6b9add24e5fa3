import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { parseAllDocuments } from 'yaml';
import { paths, repoRoot, toolPath } from '../../cluster/paths.ts';
import { ensureBinaries } from '../../cluster/build.ts';
import { clusterUp } from '../../cluster/up.ts';

const run = promisify(execFile);
const log = (message: string) => console.error(`[cluster] ${message}`);

/**
 * Integration tests need a real API server: KUBECONFIG when set (kind, k3d, any cluster),
 * otherwise the local control plane, built and started on first use and left running so
 * the next run starts warm. The project's CRDs are (re)applied either way.
 */
export async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  let kubeconfig = process.env.KUBECONFIG;
  if (kubeconfig && resolve(kubeconfig) !== paths.kubeconfig) {
    log(`using KUBECONFIG=${kubeconfig}`);
    await ensureBinaries(log);
  } else {
    kubeconfig = await clusterUp(log);
  }
  await installCrds(kubeconfig);
  project.provide('kubeconfig', kubeconfig);
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function installCrds(kubeconfig: string): Promise<void> {
  const dir = join(repoRoot, 'crds');
  if (!existsSync(dir)) return;
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(dir, f));
  if (files.length === 0) return;
  const kubectl = (args: string[]) => run(toolPath('kubectl'), ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 64 * 1024 * 1024 });
  await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=startup-factory-tests', ...files.flatMap((f) => ['-f', f])]);
  const names = files.flatMap((f) => parseAllDocuments(readFileSync(f, 'utf8')).map((d) => d.toJS()))
    .filter((doc) => doc?.kind === 'CustomResourceDefinition').map((doc) => `crd/${doc.metadata.name}`);
  if (names.length) await kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...names]);
}
