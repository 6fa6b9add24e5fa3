import { describe, expect, it } from 'vitest';
import { ACME, offlinePipeline } from '../../test/support/task-fixtures.ts';
import type { TaskOutput } from './schemas.ts';
import { validateOutput } from './validate.ts';

const steps = offlinePipeline(ACME);
const outputOf = <T extends TaskOutput>(name: string) => structuredClone(steps.find((s) => s.input.task.name === name)?.output) as T;

const issuesOf = (result: ReturnType<typeof validateOutput>) => (result.ok ? [] : result.issues);

describe('validateOutput', () => {
  it('accepts a valid output and returns it without unknown keys', () => {
    const research = { ...outputOf<TaskOutput<'research'>>('market-research'), extra: 'dropped' };
    const result = validateOutput('research', research);
    expect(result.ok).toBe(true);
    expect(result.ok && 'extra' in result.output).toBe(false);
  });

  it('names a missing or mistyped field by its path', () => {
    const spec = outputOf<TaskOutput<'spec'>>('mvp-spec') as Record<string, unknown>;
    delete spec.problem;
    (spec.features as { priority: string }[])[1]!.priority = 'nice-to-have';
    expect(issuesOf(validateOutput('spec', spec))).toEqual([
      expect.stringMatching(/^problem: .*expected string/),
      expect.stringMatching(/^features\[1\]\.priority: .*"must"\|"should"\|"could"/),
    ]);
  });

  it('refuses codegen paths that leave the project or could not be written, and duplicate paths', () => {
    const codegen = outputOf<TaskOutput<'codegen'>>('codegen-wi-1');
    const file = codegen.files[0]!;
    codegen.files = [
      file,
      { ...file, path: '../../etc/passwd' },
      { ...file, path: '/etc/passwd' },
      { ...file, path: 'frontend\\app\\page.tsx' },
      { ...file, path: 'frontend/./app/page.tsx' },
      { ...file },
      { ...file, path: 'C:/Windows/system.ini' },
      { ...file, path: 'frontend/app\u0000.tsx' },
      { ...file, path: `frontend/${'x'.repeat(1024)}.tsx` },
      { ...file, path: 'frontend/app//page.tsx' },
    ];
    expect(issuesOf(validateOutput('codegen', codegen))).toEqual([
      'files[1].path: path contains ".."',
      'files[2].path: path is absolute',
      'files[3].path: path contains a backslash',
      'files[4].path: path has an empty or "." segment',
      `files[5].path: duplicate path "${file.path}"`,
      'files[6].path: path is absolute',
      'files[7].path: path contains a control character',
      'files[8].path: path is longer than 1024 characters',
      'files[9].path: path has an empty or "." segment',
    ]);
  });

  it('refuses duplicate, malformed and overlong work item ids and bad file paths', () => {
    const plan = outputOf<TaskOutput<'decompose'>>('decompose');
    plan.workItems[1]!.id = plan.workItems[0]!.id;
    plan.workItems[2]!.id = 'WI 3';
    plan.workItems[3]!.id = `wi-${'x'.repeat(40)}`;
    const outside = plan.workItems[3]!.files.push('../outside.txt') - 1;
    expect(issuesOf(validateOutput('decompose', plan))).toEqual([
      'workItems[1].id: duplicate id "wi-1"',
      'workItems[2].id: must be a lowercase slug like "wi-1"',
      'workItems[3].id: must be at most 32 characters',
      `workItems[3].files[${outside}]: path contains ".."`,
    ]);
  });

  it('bounds lists: work items 1 to 16, codegen files 1 to 32, others 50', () => {
    const plan = outputOf<TaskOutput<'decompose'>>('decompose');
    const item = plan.workItems[0]!;
    const many = Array.from({ length: 17 }, (_, i) => ({ ...item, id: `wi-${i + 1}` }));
    expect(issuesOf(validateOutput('decompose', { workItems: many }))).toEqual(['workItems: must have at most 16 entries, has 17']);
    expect(issuesOf(validateOutput('decompose', { workItems: [] }))).toEqual(['workItems: must have at least 1 entry']);

    const codegen = outputOf<TaskOutput<'codegen'>>('codegen-wi-1');
    expect(issuesOf(validateOutput('codegen', { ...codegen, files: [] }))).toEqual(['files: must have at least 1 entry']);

    const research = outputOf<TaskOutput<'research'>>('market-research');
    research.risks = Array.from({ length: 51 }, (_, i) => `risk ${i}`);
    expect(issuesOf(validateOutput('research', research))).toEqual(['risks: must have at most 50 entries, has 51']);
  });

  it('refuses blank text, except where empty is meaningful', () => {
    const review = outputOf<TaskOutput<'review'>>('review');
    review.summary = '  \n';
    review.items[0]!.comments.push('');
    expect(review.issues[0]!.file).toBe('');
    expect(issuesOf(validateOutput('review', review))).toEqual(['summary: must not be empty', 'items[0].comments[2]: must not be empty']);

    const codegen = outputOf<TaskOutput<'codegen'>>('codegen-wi-1');
    codegen.files[1]!.path = ' ';
    expect(issuesOf(validateOutput('codegen', codegen))).toEqual(['files[1].path: must not be empty']);
    codegen.files[1]!.path = 'backend/x.py';
    codegen.files[0]!.content = '';
    expect(validateOutput('codegen', { ...codegen, workItem: '' }).ok).toBe(true);
  });

  it('bounds file contents and the whole output', () => {
    const codegen = outputOf<TaskOutput<'codegen'>>('codegen-wi-1');
    codegen.files[0]!.content = 'x'.repeat(128 * 1024 + 1);
    expect(issuesOf(validateOutput('codegen', codegen))).toEqual(['files[0].content: must be at most 128 KiB']);
    codegen.files = Array.from({ length: 5 }, (_, i) => ({ path: `f${i}.txt`, content: 'x'.repeat(120 * 1024) }));
    expect(issuesOf(validateOutput('codegen', codegen))).toEqual([expect.stringMatching(/^\(root\): the output is 601 KiB of JSON, more than the 512 KiB allowed$/)]);
  });

  it('refuses sources without an http(s) URL', () => {
    const research = outputOf<TaskOutput<'research'>>('market-research');
    research.sources[1]!.url = 'javascript:alert(1)';
    expect(issuesOf(validateOutput('research', research))).toEqual(['sources[1].url: must be an absolute http(s) URL']);
  });

  it('reports at most ten issues', () => {
    const issues = issuesOf(validateOutput('research', { summary: 1, trends: Array.from({ length: 20 }, () => ({})) }));
    expect(issues).toHaveLength(10);
    expect(issues[9]).toMatch(/^\.\.\. and \d+ more issues$/);
  });

  it('refuses what is not an object, or not JSON', () => {
    expect(issuesOf(validateOutput('analysis', 'text'))).toEqual(['(root): Invalid input: expected object, received string']);
    expect(validateOutput('analysis', undefined).ok).toBe(false);
    expect(validateOutput('analysis', { summary: 1n }).ok).toBe(false);
  });
});
