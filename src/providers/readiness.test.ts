import { describe, expect, it } from 'vitest';
import { aiProviderSpecSchema } from '../api/index.ts';
import { keySecret, providerReadiness } from './readiness.ts';

const spec = (input: Record<string, unknown>) => aiProviderSpecSchema.parse(input);
const openai = spec({ type: 'openai', model: 'gpt-4o', secretRef: { name: 'openai-key' } });

describe('providerReadiness', () => {
  it('marks the offline provider Ready without any Secret, saying it is offline', () => {
    expect(providerReadiness(spec({ type: 'offline', model: 'offline' }), 'sf', undefined))
      .toMatchObject({ ready: true, reason: 'Offline', message: expect.stringContaining('offline') });
  });

  it('is Ready only when the Secret holds the key', () => {
    expect(providerReadiness(openai, 'sf', { found: false })).toMatchObject({ ready: false, reason: 'SecretNotFound', message: 'Secret sf/openai-key does not exist' });
    expect(providerReadiness(openai, 'sf', { found: true, hasKey: false })).toMatchObject({ ready: false, reason: 'KeyNotFound' });
    expect(providerReadiness(openai, 'sf', { found: true, hasKey: true })).toMatchObject({ ready: true, reason: 'KeyResolved' });
  });

  it('refuses a key Secret outside the operator namespace before looking it up', () => {
    const elsewhere = spec({ type: 'anthropic', model: 'claude', secretRef: { namespace: 'kube-system', name: 'k' } });
    expect(keySecret(elsewhere, 'sf')).toEqual({ refused: expect.stringContaining('kube-system') });
    expect(providerReadiness(elsewhere, 'sf', { found: true, hasKey: true })).toMatchObject({ ready: false, reason: 'SecretNamespaceNotAllowed' });
  });

  it('looks for the default key name in the operator namespace', () => {
    expect(keySecret(openai, 'sf')).toEqual({ namespace: 'sf', name: 'openai-key', key: 'api-key' });
    expect(keySecret(spec({ type: 'offline', model: 'x' }), 'sf')).toBeUndefined();
  });
});
