import { describe, expect, it } from 'vitest';
import { enqueueOwner, enqueueSelf, objectKey, splitKey } from './informer.ts';

const obj = (name: string, namespace?: string, labels?: Record<string, string>) =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(namespace ? { namespace } : {}), ...(labels ? { labels } : {}) } });

describe('keys', () => {
  it('are the name for cluster-scoped objects and namespace/name otherwise, and split back', () => {
    expect(objectKey(obj('acme'))).toBe('acme');
    expect(objectKey(obj('quota', 'startup-acme'))).toBe('startup-acme/quota');
    expect(splitKey('acme')).toEqual({ name: 'acme' });
    expect(splitKey('startup-acme/quota')).toEqual({ namespace: 'startup-acme', name: 'quota' });
  });
});

describe('enqueue handlers', () => {
  it('enqueueSelf enqueues the object itself on every event', () => {
    const keys: string[] = [];
    const h = enqueueSelf((k) => keys.push(k));
    h.add!(obj('a')); h.update!(obj('a'), obj('a')); h.delete!(obj('b', 'ns'));
    expect(keys).toEqual(['a', 'a', 'ns/b']);
  });

  it('enqueueOwner enqueues the Startup named by the label and ignores unlabelled objects', () => {
    const keys: string[] = [];
    const h = enqueueOwner((k) => keys.push(k), 'startupfactory.dev/startup');
    h.add!(obj('quota', 'startup-acme', { 'startupfactory.dev/startup': 'acme' }));
    h.delete!(obj('stray', 'default'));
    h.update!(obj('svc', 'startup-beta', { 'startupfactory.dev/startup': 'beta' }), obj('svc', 'startup-beta'));
    expect(keys).toEqual(['acme', 'beta']);
  });
});
