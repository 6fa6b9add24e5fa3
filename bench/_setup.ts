/** What every benchmark needs: a cluster (KUBECONFIG, else the local control plane), the CRDs, a template of its own. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { KubeClient, type KubeObject } from '../src/kube/client.ts';
import { loadKubeConfig } from '../src/kube/config.ts';
import { loadTemplateDir, templateDir, toStartupTemplate } from '../src/templates/load.ts';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function kubeconfigPath(): string | undefined {
  if (process.env.KUBECONFIG) return undefined;
  const local = join(root, '.cluster', 'kubeconfig');
  if (!existsSync(local)) execFileSync('npm', ['run', '--silent', 'cluster:up'], { cwd: root, stdio: 'inherit' });
  return local;
}

export async function benchCluster(run: string): Promise<{ kc: ReturnType<typeof loadKubeConfig>; client: KubeClient; template: string }> {
  const kc = loadKubeConfig(kubeconfigPath());
  const client = new KubeClient(kc, { qps: 200, burst: 400 });
  for (const file of readdirSync(join(root, 'crds')).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(root, 'crds', file), 'utf8'))) {
      await client.serverSideApply(doc.toJSON() as KubeObject, { force: true });
    }
  }
  // The built-in reactnext template under a name of this run's, so every Startup renders a real scaffold and runs its pipeline.
  const template = `${run}-reactnext`;
  const builtin = toStartupTemplate(await loadTemplateDir(templateDir('reactnext')));
  await client.serverSideApply({ ...builtin, metadata: { name: template } });
  return { kc, client, template };
}

export const pct = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
export const fmtS = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
export const fmtMs = (ms: number) => `${ms.toFixed(1)} ms`;
