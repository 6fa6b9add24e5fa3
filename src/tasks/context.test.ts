import { describe, expect, it } from 'vitest';
import { ACME, offlinePipeline } from '../../test/support/task-fixtures.ts';
import { estimateTokens, extractInsights, fitContext, type ContextEntry } from './context.ts';

const steps = offlinePipeline(ACME);

const entry = (source: string, priority: number, text: string): ContextEntry => ({ source, topic: 'market', title: source, text, priority });

describe('extractInsights', () => {
  it('boils every task type down to its insights, naming the source', () => {
    const topics = new Map<string, string[]>();
    for (const { input, output } of steps) {
      const entries = extractInsights(input.task.type, input.task.name, output as never, input.dependencies.length === 0);
      expect(entries.length, input.task.name).toBeGreaterThan(0);
      for (const e of entries) {
        expect(e.source).toBe(input.task.name);
        expect(e.text.trim()).not.toBe('');
      }
      topics.set(input.task.name, entries.map((e) => e.topic));
    }
    expect(topics.get('market-research')).toEqual(['market', 'competitors', 'customers']);
    expect(topics.get('founder-analysis')).toEqual(['founder']);
    expect(topics.get('business-model')).toEqual(['monetization']);
    expect(topics.get('mvp-spec')).toEqual(['mvp', 'personas']);
    expect(topics.get('decompose')).toEqual(['work-items']);
  });

  it('carries the specifics of the output, not a summary of its shape', () => {
    const research = steps.find((s) => s.input.task.name === 'market-research')!;
    const competitors = (research.output as { competitors: { name: string }[] }).competitors;
    const [, entry] = extractInsights('research', 'market-research', research.output as never, true);
    for (const c of competitors.slice(0, 3)) expect(entry!.text).toContain(c.name);
  });
});

describe('fitContext', () => {
  it('keeps everything that fits, in the order given', () => {
    const fitted = fitContext([entry('a', 10, 'first'), entry('b', 90, 'second')], 1000);
    expect(fitted.text).toBe('## a (from a)\n\nfirst\n\n## b (from b)\n\nsecond');
    expect(fitted).toMatchObject({ truncated: [], dropped: [] });
  });

  it('keeps the highest priority first, cuts the one that no longer fits and drops the rest', () => {
    const long = 'x'.repeat(2000);
    const fitted = fitContext([entry('low', 10, long), entry('high', 90, long), entry('mid', 50, long)], 800);
    expect(estimateTokens(fitted.text)).toBeLessThanOrEqual(800);
    expect(fitted.text.indexOf('(from high)')).toBeGreaterThan(-1);
    expect(fitted.truncated).toEqual(['mid']);
    expect(fitted.dropped).toEqual(['low']);
    // Shown in the given order: mid (cut) after high, which came first in the list.
    expect(fitted.text.indexOf('(from high)')).toBeLessThan(fitted.text.indexOf('(from mid)'));
    expect(fitted.text).toMatch(/\(cut\)$/);
  });

  it('gives the same text for the same entries, and nothing for none', () => {
    const entries = [entry('a', 10, 'one'), entry('b', 20, 'two')];
    expect(fitContext(entries, 5).text).toBe(fitContext([...entries], 5).text);
    expect(fitContext([], 100)).toEqual({ text: '', truncated: [], dropped: [] });
  });
});
