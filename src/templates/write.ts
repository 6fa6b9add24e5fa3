import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { assertTreePath, sortedEntries, type FileTree } from './tree.ts';

/**
 * Write a tree under `dir`, which must be empty or absent: mixing a render into an older
 * one would leave stale files that look like part of it. Paths are checked again here,
 * at the edge, whatever produced the tree.
 */
export async function writeTree(tree: FileTree, dir: string): Promise<void> {
  const root = resolve(dir);
  const existing = await readdir(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw new Error(`${dir}: ${err.code === 'ENOTDIR' ? 'not a directory' : err.message}`);
  });
  if (existing.length > 0) throw new Error(`${dir} is not empty; choose a new --out directory`);
  for (const [path, bytes] of sortedEntries(tree)) {
    assertTreePath(path);
    const file = join(root, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, bytes, { flag: 'wx' });
  }
}
