import { CoreV1Api, CustomObjectsApi, type V1ConfigMap } from '@kubernetes/client-node';
import { parseArgs } from 'node:util';
import { API_GROUP, API_VERSION, startupNamespace } from '../../api/index.ts';
import type { KubeObject } from '../../kube/client.ts';
import { OUTPUT_LABEL } from '../../pipeline/names.ts';
import { planDocuments } from '../../pipeline/outputs.ts';
import { codeSummary, exportTree } from '../../pipeline/code.ts';
import type { PlanDocument } from '../../pipeline/plan.ts';
import { loadKubeConfig } from '../../kube/config.ts';
import { isNotFound } from '../../kube/errors.ts';
import { MANIFEST_NAME, readManifest, unpackConfigMaps, type ConfigMap } from '../../templates/configmaps.ts';
import { writeTree } from '../../templates/write.ts';
import { CliError } from '../errors.ts';

const USAGE = 'usage: startup-factory export <startup> --out <dir> [--kubeconfig <file>]   (the rendered scaffold, the generated code merged over it, the plan under docs/plan/)';

function asConfigMap(cm: V1ConfigMap, name: string): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, ...(cm.data ? { data: cm.data } : {}), ...(cm.binaryData ? { binaryData: cm.binaryData } : {}) };
}

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { out: { type: 'string' }, kubeconfig: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    });
  } catch (err) {
    throw new CliError(`${(err as Error).message.split('\n')[0]} (${USAGE})`, 2);
  }
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [startup, ...extra] = parsed.positionals;
  if (!startup || extra.length > 0 || !parsed.values.out) throw new CliError(USAGE, 2);
  const namespace = startupNamespace(startup);

  let api: CoreV1Api;
  let custom: CustomObjectsApi;
  try {
    const kc = loadKubeConfig(parsed.values.kubeconfig);
    api = kc.makeApiClient(CoreV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const read = async (name: string): Promise<ConfigMap> => {
    try {
      return asConfigMap(await api.readNamespacedConfigMap({ name, namespace }), name);
    } catch (err) {
      if (isNotFound(err)) {
        throw new CliError(name === MANIFEST_NAME
          ? `startup ${startup} has no rendered scaffold (no ConfigMap ${name} in namespace ${namespace})`
          : `ConfigMap ${name} in namespace ${namespace} is missing: the scaffold is incomplete`);
      }
      throw new CliError(`reading ConfigMap ${namespace}/${name}: ${(err as Error).message.split('\n')[0]}`);
    }
  };

  const manifestMap = await read(MANIFEST_NAME);
  try {
    // The manifest names the chunks: read exactly those, not whatever else matches a label.
    const chunks = await Promise.all(readManifest(manifestMap).configMaps.map(read));
    const scaffold = unpackConfigMaps([manifestMap, ...chunks]);
    const { tree, code, plan } = exportTree(scaffold, await readPlanDocuments(api, custom, startup, namespace));
    await writeTree(tree, parsed.values.out);
    const generated = code.items.length > 0 ? `, ${codeSummary(code)}` : '';
    const planned = plan.size > 0 ? `, the plan in ${plan.size} files under docs/plan/` : '';
    process.stderr.write(`exported ${scaffold.size - code.overrides.length} scaffold files of startup ${startup}${generated}${planned} → ${parsed.values.out}\n`);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError((err as Error).message);
  }
  return 0;
}

/** The pipeline's stored outputs of this Startup (by its uid), as plan documents. */
async function readPlanDocuments(api: CoreV1Api, custom: CustomObjectsApi, startup: string, namespace: string): Promise<PlanDocument[]> {
  let uid: string | undefined;
  try {
    const object = await custom.getClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: 'startups', name: startup }) as { metadata?: { uid?: string } };
    uid = object.metadata?.uid;
  } catch (err) {
    if (!isNotFound(err)) throw new CliError(`reading Startup ${startup}: ${(err as Error).message.split('\n')[0]}`);
  }
  const list = await api.listNamespacedConfigMap({ namespace, labelSelector: `${OUTPUT_LABEL}=true` });
  return planDocuments(list.items.map((cm) => ({ ...cm, apiVersion: 'v1', kind: 'ConfigMap', metadata: cm.metadata ?? {} }) as KubeObject & { data?: Record<string, string> }), uid);
}
