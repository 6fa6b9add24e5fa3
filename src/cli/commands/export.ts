import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { parseArgs } from 'node:util';
import { startupNamespace } from '../../api/index.ts';
import { loadKubeConfig } from '../../kube/config.ts';
import { isNotFound } from '../../kube/errors.ts';
import { MANIFEST_NAME, readManifest, unpackConfigMaps, type ConfigMap } from '../../templates/configmaps.ts';
import { writeTree } from '../../templates/write.ts';
import { CliError } from '../errors.ts';

const USAGE = 'usage: startup-factory export <startup> --out <dir> [--kubeconfig <file>]';

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
  try {
    api = loadKubeConfig(parsed.values.kubeconfig).makeApiClient(CoreV1Api);
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
    const tree = unpackConfigMaps([manifestMap, ...chunks]);
    await writeTree(tree, parsed.values.out);
    process.stderr.write(`exported ${tree.size} files of startup ${startup} → ${parsed.values.out}\n`);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError((err as Error).message);
  }
  return 0;
}
