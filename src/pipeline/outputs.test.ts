import { describe, expect, it } from 'vitest';
import type { ContextEntry } from '../tasks/context.ts';
import { contextData, reviewedAnnotations, storedContext } from './outputs.ts';
import type { OutputView } from './state.ts';

const view = (over: Partial<OutputView> = {}): OutputView => ({
  name: 'codegen-0', provider: 'p', model: 'm', quality: 0.8, rubricQuality: undefined, attempt: 1, finishedAt: undefined, workItems: undefined, ...over,
});

describe('reviewedAnnotations', () => {
  it('combines the verdict with the rubric\'s score and keeps that score beside it', () => {
    expect(reviewedAnnotations(view(), 'changes-requested')).toEqual({
      'startupfactory.dev/rubric-quality': '0.800', 'startupfactory.dev/review-verdict': 'changes-requested', 'startupfactory.dev/quality': '0.560',
    });
  });

  it('weighs a second review against the rubric\'s score, not the combined one', () => {
    const once = view({ quality: 0.86, rubricQuality: 0.8 });
    expect(reviewedAnnotations(once, 'approve')?.['startupfactory.dev/quality']).toBe('0.860');
    expect(reviewedAnnotations(view({ quality: undefined }), 'approve')).toBeUndefined();
  });
});

describe('shared context data', () => {
  it('reads back what each task wrote, and leaves out what does not parse', () => {
    const entries: ContextEntry[] = [{ source: 'market-research', topic: 'market', title: 'Market', text: 'TAM: $4bn', priority: 60 }];
    const data: Record<string, string> = { ...contextData('market-research', entries), 'broken.json': '{', 'odd.json': '[{"source":1}]' };
    expect(data['market-research.md']).toBe('## Market\n\nTAM: $4bn\n');
    expect([...storedContext(data)]).toEqual([['market-research', entries]]);
  });
});
