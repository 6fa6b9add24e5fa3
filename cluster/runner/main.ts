import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { repoRoot } from '../paths.ts';
import { PodRunner } from './runner.ts';

// Started detached by cluster:up; its output goes to .cluster/logs/pod-runner.log.
const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    'state-dir': { type: 'string' },
    'node-name': { type: 'string', default: 'local-runner' },
  },
});
if (!values.kubeconfig || !values['state-dir']) {
  console.error('usage: runner/main.ts --kubeconfig <file> --state-dir <dir> [--node-name local-runner]');
  process.exit(2);
}
const kc = new KubeConfig();
kc.loadFromFile(values.kubeconfig);
const log = (message: string) => console.log(`${new Date().toISOString()} ${message}`);
const runner = new PodRunner(kc, {
  nodeName: values['node-name'] as string,
  stateDir: values['state-dir'],
  cliPath: join(repoRoot, 'bin', 'startup-factory.js'),
  log,
});
// Every pod's processes hang off this one process: a stray rejection is logged, never fatal.
process.on('unhandledRejection', (err) => log(`unhandled: ${(err as Error)?.stack ?? err}`));
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping pods`);
    runner.stop().finally(() => process.exit(0));
  });
}
await runner.start();
