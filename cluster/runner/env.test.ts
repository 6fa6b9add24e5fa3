import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ContainerConfigError, resolveEnv, type EnvSources } from './env.ts';

const pod: V1Pod = {
  metadata: { name: 'job-abc', namespace: 'startup-demo', uid: 'u-1', labels: { app: 'demo' } },
  spec: { containers: [], nodeName: 'local-runner', serviceAccountName: 'tasks' },
};
const sources: EnvSources = {
  configMap: async (ns, name) => (ns === 'startup-demo' && name === 'settings' ? { MODE: 'fast', URL: 'http://x' } : undefined),
  secret: async (ns, name) => (ns === 'startup-demo' && name === 'creds' ? { password: 's3cret' } : undefined),
};
const POD_IP = '127.3.4.5';
const container = (env: V1Container['env'], envFrom?: V1Container['envFrom']): V1Container => ({ name: 'main', env, envFrom });

describe('resolveEnv', () => {
  it('resolves values, key references and downward API fields in order', async () => {
    const env = await resolveEnv(pod, POD_IP, container([
      { name: 'A', value: 'one' },
      { name: 'B', value: '$(A)-two' },
      { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'MODE' } } },
      { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
      { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'HOST', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
      { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
    ]), sources);
    expect(Object.fromEntries(env)).toEqual({
      A: 'one', B: 'one-two', MODE: 'fast', PASSWORD: 's3cret', POD: 'job-abc', NS: 'startup-demo', IP: POD_IP, HOST: '127.0.0.1', APP: 'demo',
    });
  });

  it('applies envFrom with its prefix before env, which overrides it', async () => {
    const env = await resolveEnv(pod, POD_IP, container([{ name: 'CFG_MODE', value: 'slow' }], [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }]), sources);
    expect(Object.fromEntries(env)).toEqual({ CFG_MODE: 'slow', CFG_URL: 'http://x' });
  });

  it('holds the container back, to be tried again, when a source cannot be read (the API server away)', async () => {
    const away: EnvSources = { configMap: () => Promise.reject(new Error('HTTP-Code: 503')), secret: () => Promise.reject(new Error('HTTP-Code: 503')) };
    await expect(resolveEnv(pod, POD_IP, container([{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } }]), away))
      .rejects.toThrow(new ContainerConfigError('could not read secret "creds": HTTP-Code: 503'));
    await expect(resolveEnv(pod, POD_IP, container([], [{ configMapRef: { name: 'settings' } }]), away))
      .rejects.toThrow(new ContainerConfigError('could not read configmap "settings": HTTP-Code: 503'));
  });

  it('fails like the kubelet on a missing source, unless optional', async () => {
    await expect(resolveEnv(pod, POD_IP, container([{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }]), sources))
      .rejects.toThrow(new ContainerConfigError('secret "nope" not found'));
    await expect(resolveEnv(pod, POD_IP, container([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'settings', key: 'k' } } }]), sources))
      .rejects.toThrow('couldn\'t find key k in ConfigMap startup-demo/settings');
    const env = await resolveEnv(pod, POD_IP, container([{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k', optional: true } } }]), sources);
    expect(env.has('X')).toBe(false);
  });
});
