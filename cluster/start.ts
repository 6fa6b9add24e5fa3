import { loadKubeConfig } from '../src/kube/config.ts';
import { main } from '../src/cli/main.ts';
import { installProject } from './install.ts';
import { binDir } from './paths.ts';
import { clusterUp } from './up.ts';

/**
 * `npm start`: the operator against KUBECONFIG (or in-cluster config) when there is a
 * cluster, otherwise against the local control plane, brought up (and built on first use)
 * here. Either way the CRDs and built-in templates are installed first, as the chart would.
 */
async function start(): Promise<number> {
  const log = (message: string) => console.error(`[start] ${message}`);
  const external = Boolean(process.env.KUBECONFIG || process.env.KUBERNETES_SERVICE_HOST);
  if (!external) {
    log('no KUBECONFIG: using the local control plane (npm run cluster:up)');
    process.env.KUBECONFIG = await clusterUp(log);
  }
  await installProject(loadKubeConfig(), { fieldManager: 'startup-factory-dev', builtinTemplates: true });
  log(`CRDs and built-in templates installed. In another shell:
    export KUBECONFIG=${process.env.KUBECONFIG ?? '<in-cluster>'}${external ? '' : ` PATH=${binDir()}:$PATH`}
    kubectl apply -f examples/aiprovider-offline.yaml -f examples/startup-fintech.yaml
    kubectl get su -w                     # Queued -> Provisioning -> Running (TASKS n/m) -> Succeeded
    npx startup-factory export test-startup --out /tmp/test-startup   # the scaffold and the plan`);
  // Locally there is one operator, so no Lease to wait for unless asked.
  const args = process.argv.slice(2);
  if (!external && !args.some((a) => a.startsWith('--leader-elect'))) args.push('--leader-elect=false');
  return main(['operator', ...args]);
}

start().then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    console.error(`startup-factory: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    process.exitCode = 1;
  },
);
