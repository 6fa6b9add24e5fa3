import { describe, expect, it } from 'vitest';
import { coversDesired } from './live-match.ts';

describe('coversDesired', () => {
  const desired = {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'q', namespace: 'ns', labels: { a: '1' }, ownerReferences: [{ uid: 'u', controller: true }] },
    spec: { hard: { 'limits.cpu': '1000m', 'limits.memory': '512Mi', pods: '30' } },
  };
  const live = {
    ...desired,
    metadata: { ...desired.metadata, uid: 'x', resourceVersion: '7', labels: { a: '1', extra: 'theirs' }, managedFields: [{}] },
    spec: { hard: { 'limits.cpu': '1', 'limits.memory': '512Mi', pods: '30' } },
    status: { used: {} },
  };

  it('accepts a live object with our fields, extra fields and canonical quantities', () => {
    expect(coversDesired(live, desired)).toBe(true);
  });

  it('sees a changed value, a removed label and a changed owner', () => {
    expect(coversDesired({ ...live, spec: { hard: { ...live.spec.hard, 'limits.memory': '1Gi' } } }, desired)).toBe(false);
    expect(coversDesired({ ...live, metadata: { ...live.metadata, labels: { extra: 'theirs' } } }, desired)).toBe(false);
    expect(coversDesired({ ...live, metadata: { ...live.metadata, ownerReferences: [{ uid: 'other', controller: true }] } }, desired)).toBe(false);
  });

  it('requires lists to match element for element', () => {
    const ports = { ports: [{ port: 80, protocol: 'TCP' }] };
    expect(coversDesired({ ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] }, ports)).toBe(true);
    expect(coversDesired({ ports: [{ port: 80, protocol: 'TCP' }, { port: 81 }] }, ports)).toBe(false);
    expect(coversDesired({ ports: [] }, ports)).toBe(false);
  });

  it('treats a missing object as not covering', () => {
    expect(coversDesired(undefined, desired)).toBe(false);
    expect(coversDesired({ spec: 'x' }, { spec: { a: 1 } })).toBe(false);
  });

  it('does not confuse numbers with strings or different text', () => {
    expect(coversDesired({ port: '80' }, { port: 80 })).toBe(false);
    expect(coversDesired({ type: 'NodePort' }, { type: 'ClusterIP' })).toBe(false);
  });
});
