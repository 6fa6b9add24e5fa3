import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { withLock } from './lock.ts';
import { paths, stateDir } from './paths.ts';
import { isAlive, stopProcess } from './processes.ts';
import { componentRunning, lockDir, readState, type Component } from './up.ts';

/**
 * Stops everything cluster:up started and removes the state. The runner goes first so it
 * ends its pods' processes; any pod process it left behind (a runner that crashed) is found
 * through the pid file each pod's scratch directory holds.
 */
export async function clusterDown(log: (message: string) => void = console.error): Promise<void> {
  await withLock(lockDir, 'changing the local cluster', async () => {
    const state = readState();
    const order: Component[] = ['pod-runner', 'kube-controller-manager', 'kube-apiserver', 'etcd'];
    for (const component of order) {
      const pid = state?.pids[component];
      if (state && pid && componentRunning(state, component)) {
        log(`stopping ${component}`);
        await stopProcess(pid, 15_000);
      }
    }
    for (const pid of leftoverPodPids()) await stopProcess(pid, 2_000, true);
    rmSync(stateDir, { recursive: true, force: true });
  }, log);
}

function leftoverPodPids(): number[] {
  let dirs: string[];
  try {
    dirs = readdirSync(paths.pods);
  } catch {
    return [];
  }
  return dirs.flatMap((dir) => {
    try {
      return readFileSync(join(paths.pods, dir, 'pids'), 'utf8').split('\n').map(Number).filter((pid) => pid > 0 && isAlive(pid));
    } catch {
      return [];
    }
  });
}

if (import.meta.main) {
  clusterDown().then(
    () => console.error('local cluster stopped and its state removed'),
    (err: unknown) => {
      console.error(`cluster:down: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
