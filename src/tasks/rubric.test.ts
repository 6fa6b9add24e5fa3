import { describe, expect, it } from 'vitest';
import { ACME, offlinePipeline } from '../../test/support/task-fixtures.ts';
import { scoreOutput, withReviewVerdict } from './rubric.ts';
import type { TaskOutput } from './schemas.ts';

const steps = offlinePipeline(ACME);
const stepOf = <T extends TaskOutput>(name: string) => {
  const step = steps.find((s) => s.input.task.name === name)!;
  return { input: step.input, output: structuredClone(step.output) as T };
};

describe('scoreOutput', () => {
  it('scores in [0, 1], the same every time', () => {
    for (const { input, output } of steps) {
      const score = scoreOutput(input.task.type, output, input);
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
      expect(scoreOutput(input.task.type, structuredClone(output), input)).toBe(score);
    }
  });

  it('rewards complete sections', () => {
    const { input, output } = stepOf<TaskOutput<'research'>>('market-research');
    const full = scoreOutput('research', output, input);
    const thin = scoreOutput('research', { ...output, competitors: output.competitors.slice(0, 1), trends: [], risks: [] }, input);
    expect(thin).toBeLessThan(full);
    expect(thin).toBeCloseTo(full - 0.5 * (2 / 3 + 1 + 1) / 5 / (0.5 + 0.3 + 0.2), 3);
  });

  it('rewards text about this startup over generic text', () => {
    const { input } = stepOf('founder-analysis');
    const generic: TaskOutput<'analysis'> = {
      summary: 'A promising founder.',
      insights: [1, 2, 3].map((i) => ({ title: `Insight ${i}`, detail: 'Build a great product.' })),
      strengths: ['Motivated', 'Hard-working'],
      risks: ['Competition', 'Funding'],
      recommendations: ['Talk to customers', 'Ship early', 'Measure'],
    };
    expect(scoreOutput('analysis', generic, input)).toBe(0.625);
    const specific = { ...generic, summary: 'Acme Pay suits a fintech founder who knows payouts.' };
    expect(scoreOutput('analysis', specific, input)).toBe(1);
  });

  it('checks that a review covers every work item of its codegen dependencies', () => {
    const { input, output } = stepOf<TaskOutput<'review'>>('review');
    expect(scoreOutput('review', output, input)).toBe(1);
    const partial = { ...output, items: output.items.slice(0, 2) };
    expect(scoreOutput('review', partial, input)).toBeLessThan(0.8);
    const inconsistent = { ...output, items: [{ ...output.items[0]!, verdict: 'changes-requested' as const }, ...output.items.slice(1)] };
    expect(scoreOutput('review', inconsistent, input)).toBeLessThan(1);
  });

  it('checks that codegen writes the files of its work item', () => {
    const { input, output } = stepOf<TaskOutput<'codegen'>>('codegen-wi-1');
    const elsewhere = { ...output, workItem: 'wi-9', files: [{ path: 'notes.txt', content: 'Acme Pay payments in fintech' }] };
    expect(scoreOutput('codegen', elsewhere, input)).toBeLessThan(scoreOutput('codegen', output, input) - 0.1);
  });

  it('checks that decompose items list files and acceptance criteria', () => {
    const { input, output } = stepOf<TaskOutput<'decompose'>>('decompose');
    const vague = { workItems: output.workItems.map((w) => ({ ...w, files: [] })) };
    expect(scoreOutput('decompose', vague, input)).toBe(0.8);
  });
});

describe('withReviewVerdict', () => {
  it('lifts an approved item and sinks one that needs changes, weighing the verdict at 30%', () => {
    expect(withReviewVerdict(0.8, 'approve')).toBe(0.86);
    expect(withReviewVerdict(0.8, 'changes-requested')).toBe(0.56);
    expect(withReviewVerdict(1, 'approve')).toBe(1);
  });
});
