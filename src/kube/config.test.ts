import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKubeConfig } from './config.ts';

const kubeconfig = (server: string) => `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${server}"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`;

function file(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sf-kubeconfig-')), 'config');
  writeFileSync(path, content);
  return path;
}

describe('loadKubeConfig', () => {
  it('prefers an explicit path over KUBECONFIG', () => {
    const explicit = file(kubeconfig('https://explicit:6443'));
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = file(kubeconfig('https://env:6443'));
    try {
      expect(loadKubeConfig(explicit).getCurrentCluster()?.server).toBe('https://explicit:6443');
      expect(loadKubeConfig().getCurrentCluster()?.server).toBe('https://env:6443');
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });

  it('names a missing explicit file in one line', () => {
    expect(() => loadKubeConfig('/nonexistent/kubeconfig')).toThrow('kubeconfig /nonexistent/kubeconfig does not exist');
  });

  it('says no cluster is configured when there is no kubeconfig anywhere', () => {
    const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME, KUBERNETES_SERVICE_HOST: process.env.KUBERNETES_SERVICE_HOST };
    delete process.env.KUBECONFIG;
    delete process.env.KUBERNETES_SERVICE_HOST;
    process.env.HOME = mkdtempSync(join(tmpdir(), 'sf-home-'));
    try {
      expect(() => loadKubeConfig()).toThrow(/^no Kubernetes cluster configured/);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
