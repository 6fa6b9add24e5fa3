import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARGOCD_DOC, argocdChartFiles, chartDir, expectedArgocdDoc, expectedChartFiles, repoRoot, staleChartFiles, withVersion } from '../../charts/sync.ts';

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

  it('include the Argo CD health scripts verbatim in the argocd-cm patch, the argo-cd values and the docs', async () => {
    const expected = await argocdChartFiles();
    const startup = await readFile(join(chartDir, 'argocd', 'startup.lua'), 'utf8');
    expect(expected.get(join('argocd', 'argocd-cm.yaml'))).toContain(`resource.customizations.health.startupfactory.dev_Startup: |\n    ${startup.split('\n')[0]}`);
    expect(expected.get(join('argocd', 'argo-cd-values.yaml'))).toContain('resource.customizations.health.startupfactory.dev_StartupTemplate: |');
    const doc = await readFile(join(repoRoot, ARGOCD_DOC), 'utf8');
    expect(doc).toContain(`\`\`\`lua\n${startup}\`\`\``);
    expect(doc === await expectedArgocdDoc(), `${ARGOCD_DOC} is out of date`).toBe(true);
  });

  it('sets version and appVersion, leaving the rest of Chart.yaml alone', () => {
    const chart = 'apiVersion: v2\nname: x\nversion: 0.0.1\nappVersion: "0.0.1"\nkubeVersion: ">=1.30.0-0"\n';
    expect(withVersion(chart, '1.2.3')).toBe('apiVersion: v2\nname: x\nversion: 1.2.3\nappVersion: "1.2.3"\nkubeVersion: ">=1.30.0-0"\n');
  });
});
