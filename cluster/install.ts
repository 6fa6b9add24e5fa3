import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, type KubeObject } from '../src/kube/client.ts';
import { repoRoot } from './paths.ts';

const crdDir = join(repoRoot, 'crds');
/** The chart's packed built-ins: the same objects `helm install` creates. */
const builtinTemplateDir = join(repoRoot, 'charts', 'startup-factory', 'files', 'builtin-templates');

function objectsIn(dir: string): KubeObject[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as KubeObject))
    .filter((o) => o?.kind);
}

/**
 * Installs what the Helm chart would for a development run or a test run: the CRDs (waiting
 * until the API server serves them) and optionally the built-in StartupTemplates. Server-side
 * apply under its own field manager, so it is idempotent and never fights the operator.
 */
export async function installProject(kubeConfig: KubeConfig, o: { fieldManager: string; builtinTemplates: boolean }): Promise<void> {
  const crds = objectsIn(crdDir);
  const crdClient = new KubeClient(kubeConfig, { qps: 50, burst: 100 });
  for (const crd of crds) await crdClient.serverSideApply(crd, { fieldManager: o.fieldManager, force: true });
  await Promise.all(crds.map((crd) => waitEstablished(crdClient, crd.metadata.name!)));
  if (!o.builtinTemplates) return;
  // A fresh client: the first one's discovery was read before the new kinds existed.
  const client = new KubeClient(kubeConfig, { qps: 50, burst: 100 });
  for (const template of objectsIn(builtinTemplateDir)) await client.serverSideApply(template, { fieldManager: o.fieldManager, force: true });
}

async function waitEstablished(client: KubeClient, name: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const crd = await client.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(
      { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name });
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after 60 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
