import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderKubeconfig } from './kubeconfig.ts';

describe('renderKubeconfig', () => {
  it('inlines the CA and client certificate so the file is portable', () => {
    const cfg = parse(renderKubeconfig({
      server: 'https://127.0.0.1:6443', caPem: 'CA', user: 'admin', credentials: { certPem: 'CERT', keyPem: 'KEY' },
    }));
    expect(cfg['current-context']).toBe('startup-factory-local');
    expect(cfg.clusters[0].cluster.server).toBe('https://127.0.0.1:6443');
    expect(Buffer.from(cfg.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toBe('CA');
    expect(Buffer.from(cfg.users[0].user['client-key-data'], 'base64').toString()).toBe('KEY');
    expect(cfg.users[0].user.token).toBeUndefined();
  });

  it('carries a bearer token for service-account identities', () => {
    const cfg = parse(renderKubeconfig({ server: 'https://x', caPem: 'CA', user: 'sa', credentials: { token: 't0k' } }));
    expect(cfg.users[0]).toEqual({ name: 'sa', user: { token: 't0k' } });
  });
});
