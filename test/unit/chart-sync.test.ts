import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chartDir, expectedChartFiles, staleChartFiles, withVersion } from '../../charts/sync.ts';

describe('Helm chart generated files', () => {
  it('match their sources (run `npm run chart:sync` when this fails)', async () => {
    const expected = await expectedChartFiles();
    expect([...expected.keys()].filter((p) => p.startsWith('crds'))).not.toEqual([]);
    for (const [path, content] of expected) {
      const actual = await readFile(join(chartDir, path), 'utf8').catch(() => '<missing>');
      expect(actual === content, `charts/startup-factory/${path} is out of date`).toBe(true);
    }
    expect(await staleChartFiles(expected)).toEqual([]);
  }, 60_000);

  it('sets version and appVersion, leaving the rest of Chart.yaml alone', () => {
    const chart = 'apiVersion: v2\nname: x\nversion: 0.0.1\nappVersion: "0.0.1"\nkubeVersion: ">=1.30.0-0"\n';
    expect(withVersion(chart, '1.2.3')).toBe('apiVersion: v2\nname: x\nversion: 1.2.3\nappVersion: "1.2.3"\nkubeVersion: ">=1.30.0-0"\n');
  });
});
