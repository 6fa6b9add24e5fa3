import { describe, expect, it } from 'vitest';
import { getCondition } from '../api/conditions.ts';
import { templateStatus } from './template-status.ts';

const t0 = new Date('2026-11-25T10:00:00Z');
const t1 = new Date('2026-11-25T11:00:00Z');

describe('templateStatus', () => {
  it('is Ready with the file count when the template validates', () => {
    const status = templateStatus(undefined, 1, { ok: true, fileCount: 42 }, t0);
    expect(status).toMatchObject({ observedGeneration: 1, fileCount: 42 });
    expect(getCondition(status.conditions, 'Ready')).toMatchObject({ status: 'True', reason: 'Valid', lastTransitionTime: '2026-11-25T10:00:00Z' });
    expect(templateStatus(status, 1, { ok: true, fileCount: 42 }, t1)).toBe(status);
  });

  it('says why a template is not usable, and flips back', () => {
    const bad = templateStatus(undefined, 2, { ok: false, reason: 'RenderFailed', message: 'file a.txt: unexpected end' }, t0);
    expect(getCondition(bad.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'RenderFailed', message: 'file a.txt: unexpected end', observedGeneration: 2 });
    // Only a change to the template helps: Stalled, which kstatus reads as Failed.
    expect(getCondition(bad.conditions, 'Stalled')).toMatchObject({ status: 'True', reason: 'RenderFailed', observedGeneration: 2 });
    const fixed = templateStatus(bad, 3, { ok: true, fileCount: 1 }, t1);
    expect(getCondition(fixed.conditions, 'Ready')).toMatchObject({ status: 'True', lastTransitionTime: '2026-11-25T11:00:00Z' });
    expect(getCondition(fixed.conditions, 'Stalled')).toMatchObject({ status: 'False', observedGeneration: 3 });
  });
});
