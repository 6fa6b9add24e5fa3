import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** A zombie counts as gone: a detached child of a long-lived parent (vitest) stays one until reaped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Alive and still the program we started (`marker` is one of its exact arguments): pids get reused. */
export function isRunning(pid: number | undefined, marker: string): boolean {
  if (!pid || !isAlive(pid)) return false;
  return commandLine(pid)?.includes(marker) ?? false;
}

/** The process's command and arguments, or undefined when it is gone. */
export function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return undefined;
  }
}

/** Starts a process that outlives us (own session, no stdio ties), appending its output to `logFile`. */
export function spawnDetached(command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): number {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], env });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/**
 * SIGTERM, then SIGKILL if it is still there after `graceMs`; resolves once it has exited,
 * so a caller may start its successor on the same port or data directory. With `group`, the
 * signals go to the process group the pid leads (a pod's process and whatever it spawned).
 */
export async function stopProcess(pid: number, graceMs = 10_000, group = false): Promise<void> {
  const target = group ? -pid : pid;
  if (!isAlive(pid)) return;
  try {
    process.kill(target, 'SIGTERM');
  } catch {
    return;
  }
  if (await exited(pid, graceMs)) return;
  try {
    process.kill(target, 'SIGKILL');
  } catch {
    // It exited between the check and the kill.
  }
  // SIGKILL cannot be ignored, but the kernel takes a moment to tear a big process down.
  if (!await exited(pid, 10_000)) throw new Error(`process ${pid} did not exit after SIGKILL`);
}

async function exited(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}
