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
  const args = process.argv.slice(2);
  // Locally there is one operator, so no Lease to wait for unless asked.
  if (!external && !args.some((a) => a.startsWith('--leader-elect'))) args.push('--leader-elect=false');
  // The dashboard of a developer's own operator: on loopback, so it needs no token.
  if (!args.some((a) => a.startsWith('--dashboard-auth'))) args.push('--dashboard-auth=none', '--dashboard-address=127.0.0.1');
  const port = flagValue(args, '--dashboard-port') ?? process.env.SF_DASHBOARD_PORT ?? '8082';
  const address = flagValue(args, '--dashboard-address') ?? '127.0.0.1';
  const dashboard = port === '0' ? 'the dashboard: on the port its "dashboard listening" log line names' : `the dashboard: http://${address}:${port}/`;
  log(`CRDs and built-in templates installed; ${dashboard}
In another shell:
    export KUBECONFIG=${process.env.KUBECONFIG ?? '<in-cluster>'}${external ? '' : ` PATH=${binDir()}:$PATH`}
    kubectl apply -f examples/aiprovider-offline.yaml -f examples/startup-fintech.yaml
    kubectl get su -w                     # Queued -> Provisioning -> Running (TASKS n/m) -> Succeeded
    npx startup-factory export test-startup --out /tmp/test-startup   # the scaffold and the plan`);
  return main(['operator', ...args]);
}

/** `--flag value` or `--flag=value`, the last one winning as parseArgs has it. */
function flagValue(args: readonly string[], flag: string): string | undefined {
  let value: string | undefined;
  args.forEach((a, i) => {
    if (a === flag) value = args[i + 1];
    else if (a.startsWith(`${flag}=`)) value = a.slice(flag.length + 1);
  });
  return value;
}

start().then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    console.error(`startup-factory: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    process.exitCode = 1;
  },
);
