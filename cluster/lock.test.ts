import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { withLock } from './lock.ts';

const quiet = () => undefined;

describe('withLock', () => {
  it('lets one holder in at a time', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'sf-lock-')), 'lock');
    const events: string[] = [];
    const hold = (name: string) => withLock(dir, 'testing', async () => {
      events.push(`${name} in`);
      await sleep(50);
      events.push(`${name} out`);
    }, quiet);
    await Promise.all([hold('a'), hold('b')]);
    expect(events).toEqual(['a in', 'a out', 'b in', 'b out']);
  });

  it('breaks a lock whose holder died', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'sf-lock-')), 'lock');
    mkdirSync(dir);
    // No process has pid 2^22 + 1: above Linux's pid_max.
    writeFileSync(join(dir, 'pid'), String(4_194_305));
    await expect(withLock(dir, 'testing', async () => 'got it', quiet)).resolves.toBe('got it');
  });
});
