import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { go } from '../../cluster/build.ts';
import { withLock } from '../../cluster/lock.ts';
import { cacheRoot, repoRoot } from '../../cluster/paths.ts';

const sources = join(repoRoot, 'test', 'kstatus');

export type Kstatus = { status: 'InProgress' | 'Failed' | 'Current' | 'Terminating' | 'NotFound' | 'Unknown'; message: string };

/**
 * The kstatus command of test/kstatus, built once per content of its sources into the
 * cache outside the checkout (like the Kubernetes binaries): a cold build downloads
 * cli-utils and apimachinery (about a minute on 2 cores), a cached one costs nothing.
 */
export async function kstatusBinary(log: (m: string) => void): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'main.go']) hash.update(file).update('\0').update(readFileSync(join(sources, file))).update('\0');
  const binary = join(cacheRoot(), `kstatus-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(binary)) return binary;
  mkdirSync(cacheRoot(), { recursive: true });
  await withLock(join(cacheRoot(), 'kstatus.lock'), 'building kstatus', async () => {
    if (existsSync(binary)) return;
    const temp = `${binary}.tmp-${process.pid}`;
    const started = Date.now();
    await go(['build', '-trimpath', '-o', temp, '.'], sources, {}, log);
    renameSync(temp, binary);
    log(`built ${binary} in ${Math.round((Date.now() - started) / 1000)} s`);
  }, log);
  return binary;
}

/** What `sigs.k8s.io/cli-utils`' kstatus computes for each object, in order. */
export function computeKstatus(binary: string, objects: unknown[]): Promise<Kstatus[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(binary, [], (err, stdout, stderr) => {
      if (err) reject(new Error(`kstatus: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout) as Kstatus[]);
    });
    child.stdin!.end(JSON.stringify(objects));
  });
}
