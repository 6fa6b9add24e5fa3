import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { paths } from '../../cluster/paths.ts';
import { ensureBinaries } from '../../cluster/build.ts';
import { installProject } from '../../cluster/install.ts';
import { clusterUp } from '../../cluster/up.ts';
import { loadKubeConfig } from '../../src/kube/config.ts';
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
  await installProject(loadKubeConfig(kubeconfig), { fieldManager: 'startup-factory-tests', builtinTemplates: false });
  project.provide('kubeconfig', kubeconfig);
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
