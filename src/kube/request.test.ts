import { describe, expect, it } from 'vitest';
import { isDryRun, isMutating, requestVerb } from './request.ts';

describe('requestVerb', () => {
  const base = 'https://127.0.0.1:6443';
  it.each([
    ['GET', '/api/v1/namespaces', 'list'],
    ['GET', '/api/v1/namespaces/startup-acme', 'get'],
    ['GET', '/api/v1/namespaces/startup-acme/configmaps', 'list'],
    ['GET', '/api/v1/namespaces/startup-acme/configmaps/scaffold-0', 'get'],
    ['GET', '/apis/startupfactory.dev/v1alpha1/startups', 'list'],
    ['GET', '/apis/startupfactory.dev/v1alpha1/startups/acme', 'get'],
    ['GET', '/apis/startupfactory.dev/v1alpha1/startups?watch=true&resourceVersion=5', 'watch'],
    ['GET', '/apis/startupfactory.dev/v1alpha1/startups/acme/status', 'get'],
    ['POST', '/api/v1/namespaces', 'create'],
    ['PUT', '/apis/coordination.k8s.io/v1/namespaces/sf/leases/leader', 'update'],
    ['PATCH', '/api/v1/namespaces/x', 'patch'],
    ['DELETE', '/api/v1/namespaces/x', 'delete'],
    ['DELETE', '/api/v1/namespaces/x/pods', 'deletecollection'],
    ['GET', '/version', 'get'],
  ])('%s %s is %s', (method, path, verb) => {
    expect(requestVerb(method, base + path)).toBe(verb);
  });

  it('tells server-side apply from other patches by content type', () => {
    expect(requestVerb('PATCH', `${base}/api/v1/namespaces/x`, 'application/apply-patch+yaml')).toBe('apply');
    expect(requestVerb('PATCH', `${base}/api/v1/namespaces/x`, 'application/merge-patch+json')).toBe('patch');
  });
});

describe('isMutating', () => {
  it('counts every method but reads', () => {
    expect(['GET', 'HEAD'].map((m) => isMutating(m))).toEqual([false, false]);
    expect(['POST', 'PUT', 'PATCH', 'DELETE'].map((m) => isMutating(m))).toEqual([true, true, true, true]);
  });

  it('does not count a dry run, which stores nothing', () => {
    const url = 'https://127.0.0.1:6443/api/v1/namespaces/startup-acme/secrets';
    expect(isMutating('POST', `${url}?fieldManager=startup-factory&dryRun=All`)).toBe(false);
    expect(isMutating('POST', `${url}?fieldManager=startup-factory`)).toBe(true);
    expect(isDryRun(`${url}?dryRun=All`)).toBe(true);
  });
});
