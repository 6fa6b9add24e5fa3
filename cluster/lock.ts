import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from './processes.ts';

/**
 * A cross-process lock: mkdir is atomic, and the owner's pid inside lets a waiter break the
 * lock of a process that died holding it. Parallel test runs and a hand-typed
 * `npm run cluster:up` all start the same cluster, so they must take turns.
 */
export async function withLock<T>(dir: string, what: string, fn: () => Promise<T>, log: (m: string) => void): Promise<T> {
  let announced = false;
  for (;;) {
    try {
      mkdirSync(dir, { recursive: false });
      writeFileSync(join(dir, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = ownerPid(dir);
      if (owner !== undefined && !isAlive(owner)) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (!announced) {
        log(`waiting for another process (pid ${owner ?? '?'}) that is ${what}`);
        announced = true;
      }
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function ownerPid(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    // The owner created the directory but has not written its pid yet.
    return undefined;
  }
}
