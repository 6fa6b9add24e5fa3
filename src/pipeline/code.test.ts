import { describe, expect, it } from 'vitest';
import { ACME, offlinePipeline } from '../../test/support/task-fixtures.ts';
import type { CodegenOutput } from '../tasks/schemas.ts';
import { checkTreePath, type FileTree } from '../templates/tree.ts';
import { codegenOutputs, codeReport, codeSummary, exportTree, mergeCode, type GeneratedCode } from './code.ts';
import type { PlanDocument } from './plan.ts';

const scaffold = (): FileTree => new Map([
  ['package.json', Buffer.from('{"name":"acme"}\n')],
  ['frontend/app/page.tsx', Buffer.from('export default function Home() {}\n')],
  ['frontend/public/icon.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00])],
]);

const codegen = (task: string, files: Record<string, string>, workItem = `wi-${task}`): GeneratedCode => ({
  task,
  output: { workItem, summary: 'Done.', files: Object.entries(files).map(([path, content]) => ({ path, content })), notes: [] },
});

const document = (task: string, output: unknown): PlanDocument =>
  ({ task, json: JSON.stringify(output), markdown: `# ${task}\n`, provider: 'offline', model: 'offline-v1', quality: '0.800' });

describe('mergeCode', () => {
  it('adds generated files, replaces the scaffold\'s at the same path and keeps the rest byte for byte', () => {
    const base = scaffold();
    const merge = mergeCode(base, [codegen('codegen-0', { 'frontend/app/page.tsx': 'export default function Home() { return "new"; }\n', 'frontend/app/pay/page.tsx': 'pay' })]);
    expect(merge.tree.get('frontend/app/page.tsx')?.toString()).toBe('export default function Home() { return "new"; }\n');
    expect(merge.tree.get('frontend/app/pay/page.tsx')?.toString()).toBe('pay');
    expect(merge.tree.get('frontend/public/icon.png')).toEqual(base.get('frontend/public/icon.png'));
    expect(merge.tree.size).toBe(base.size + 1);
    expect(merge.overrides).toEqual([{ path: 'frontend/app/page.tsx', task: 'codegen-0' }]);
    expect(merge.items).toEqual([{
      task: 'codegen-0',
      workItem: 'wi-codegen-0',
      files: [{ path: 'frontend/app/page.tsx', outcome: 'replaced' }, { path: 'frontend/app/pay/page.tsx', outcome: 'added' }],
    }]);
    expect(merge.conflicts).toEqual([]);
    // The input tree is the export's scaffold: it stays as it was.
    expect(base.get('frontend/app/page.tsx')?.toString()).toBe('export default function Home() {}\n');
  });

  it('resolves a path several tasks write to the lowest fan-out index, as a number, whatever order they come in', () => {
    const outputs = [
      codegen('codegen-10', { 'shared.ts': 'ten', 'ten.ts': '10' }),
      codegen('codegen-2', { 'shared.ts': 'two', 'package.json': '{}' }),
      codegen('codegen-1', { 'shared.ts': 'one' }),
      codegen('codegen-3', { 'package.json': '{"three":true}' }),
    ];
    const merges = [outputs, [...outputs].reverse(), [outputs[2]!, outputs[0]!, outputs[3]!, outputs[1]!]].map((o) => mergeCode(scaffold(), o));
    for (const merge of merges) {
      expect(merge.items.map((i) => i.task)).toEqual(['codegen-1', 'codegen-2', 'codegen-3', 'codegen-10']);
      expect(merge.tree.get('shared.ts')?.toString()).toBe('one');
      expect(merge.tree.get('package.json')?.toString()).toBe('{}');
      expect(merge.tree.get('ten.ts')?.toString()).toBe('10');
      expect(merge.conflicts).toEqual([
        { path: 'shared.ts', winner: 'codegen-1', losers: ['codegen-2', 'codegen-10'] },
        { path: 'package.json', winner: 'codegen-2', losers: ['codegen-3'] },
      ]);
      expect(merge.overrides).toEqual([{ path: 'package.json', task: 'codegen-2' }]);
      expect(merge.items[3]!.files).toEqual([{ path: 'shared.ts', outcome: 'lost', winner: 'codegen-1' }, { path: 'ten.ts', outcome: 'added' }]);
    }
    // Tasks of other names (a pipeline's own codegen tasks) go by name first.
    const named = mergeCode(new Map(), [codegen('codegen-0', { 'a.ts': 'fan-out' }), codegen('api', { 'a.ts': 'api' })]);
    expect(named.tree.get('a.ts')?.toString()).toBe('api');
  });

  it('refuses, and never writes, a path outside the project, in the plan or clashing with a file or directory', () => {
    const merge = mergeCode(scaffold(), [
      codegen('codegen-0', {
        '../outside.txt': 'x',
        '/etc/passwd': 'x',
        'C:/Windows/x': 'x',
        'a\u0000b': 'x',
        'frontend/./app/x.ts': 'x',
        [`${'d/'.repeat(600)}x`]: 'x',
        'docs/plan/README.md': 'x',
        'docs/plan': 'x',
        'frontend/app': 'x',
        'package.json/x.ts': 'x',
        'lib/util': 'a file',
      }),
      codegen('codegen-1', { 'lib/util/x.ts': 'under a generated file', 'lib/util': 'same path: a conflict, not a clash' }),
    ]);
    expect(merge.items[0]!.files.map((f) => (f.outcome === 'refused' ? f.problem : f.outcome))).toEqual([
      'path contains ".."',
      'path is absolute',
      'path is absolute',
      'path contains a control character',
      'path has an empty or "." segment',
      'path is longer than 1024 characters',
      'docs/plan/ holds the plan',
      'is a directory of the project',
      'is a directory of the project',
      'package.json is a file of the project, not a directory',
      'added',
    ]);
    expect(merge.items[1]!.files).toEqual([
      { path: 'lib/util/x.ts', outcome: 'refused', problem: 'lib/util is a file of the project, not a directory' },
      { path: 'lib/util', outcome: 'lost', winner: 'codegen-0' },
    ]);
    expect([...merge.tree.keys()].sort()).toEqual([...scaffold().keys(), 'lib/util'].sort());
    for (const path of merge.tree.keys()) expect(checkTreePath(path), path).toBeUndefined();
  });

  it('keeps the first of two files a task writes at one path', () => {
    const output: CodegenOutput = { workItem: '', summary: 's', notes: [], files: [{ path: 'a.ts', content: 'first' }, { path: 'a.ts', content: 'second' }] };
    const merge = mergeCode(new Map(), [{ task: 'codegen-0', output }]);
    expect(merge.tree.get('a.ts')?.toString()).toBe('first');
    expect(merge.items).toEqual([{
      task: 'codegen-0',
      // No work item: the task stands for it.
      workItem: 'codegen-0',
      files: [{ path: 'a.ts', outcome: 'added' }, { path: 'a.ts', outcome: 'refused', problem: 'written twice by this task; the first is kept' }],
    }]);
  });
});

describe('codegenOutputs', () => {
  it('picks the stored outputs shaped like codegen ones, and skips the rest', () => {
    const code = codegen('codegen-0', { 'a.ts': 'a' });
    expect(codegenOutputs([
      document('mvp-spec', { productName: 'Acme', features: [] }),
      document('codegen-0', code.output),
      document('review', { verdict: 'approve', summary: 's', items: [], issues: [] }),
      { ...document('codegen-1', {}), json: '{"workItem": "wi-2", "files": [' },
      document('codegen-2', { ...code.output, files: [{ path: 'b.ts' }] }),
    ])).toEqual([code]);
  });
});

describe('the code report', () => {
  const merge = mergeCode(scaffold(), [
    codegen('codegen-0', { 'frontend/app/page.tsx': 'home', 'shared.ts': 'zero', 'odd ```|[x](y).ts': 'x' }),
    codegen('codegen-1', { 'shared.ts': 'one', '../x': 'x' }, ''),
  ]);

  it('lists each task\'s files, what replaced the scaffold, each conflict with its winner and what was refused', () => {
    const report = codeReport(merge);
    expect(report).toContain('2 codegen tasks, 3 files written (1 replacing scaffold files), 1 conflict, 1 refused.');
    expect(report).toContain([
      '## codegen-0', '',
      '```text',
      'work item "wi-codegen-0"',
      'replaced  frontend/app/page.tsx  (the scaffold\'s file)',
      'added     shared.ts',
      'added     odd ```|[x](y).ts',
      '```',
    ].join('\n').replace(/^```(text)?$/gm, '````$1'));
    expect(report).toContain('## codegen-1\n\n```text\nwork item "codegen-1"\nlost      shared.ts  (codegen-0 wrote it first)\nrefused   "../x": path contains ".."\n```');
    expect(report).toContain('## Conflicts\n\n```text\nshared.ts: codegen-0 wins over codegen-1\n```');
  });

  it('sums it up in one line for the export', () => {
    expect(codeSummary(merge)).toBe('3 generated files from 2 codegen tasks, 1 replacing scaffold files, 1 conflict (shared.ts: codegen-0 won), 1 refused (see docs/plan/CODE.md)');
    expect(codeSummary(mergeCode(new Map(), [codegen('codegen-0', { 'a.ts': 'a' })]))).toBe('1 generated file from 1 codegen task');
  });
});

describe('exportTree', () => {
  const steps = offlinePipeline(ACME);
  const documents = steps.map((s) => document(s.input.task.name, s.output));

  it('writes the scaffold, the offline pipeline\'s code over it and the plan with the code report beside them', () => {
    const { tree, code, plan } = exportTree(scaffold(), documents);
    const files = steps.flatMap((s) => (s.input.task.type === 'codegen' ? (s.output as CodegenOutput).files : []));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(tree.get(file.path)?.toString(), file.path).toBe(file.content);
    expect(code.conflicts).toEqual([]);
    expect(code.items.flatMap((i) => i.files).every((f) => f.outcome === 'added')).toBe(true);
    expect(plan.get('docs/plan/CODE.md')?.toString()).toBe(codeReport(code));
    expect(plan.get('docs/plan/README.md')?.toString()).toContain('[CODE.md](CODE.md)');
    expect(tree.size).toBe(scaffold().size + files.length + plan.size);
  });

  it('writes no code report for a pipeline without codegen outputs', () => {
    const { plan, code } = exportTree(scaffold(), documents.filter((d) => !d.task.startsWith('codegen-')));
    expect(code.items).toEqual([]);
    expect(plan.has('docs/plan/CODE.md')).toBe(false);
    expect(plan.get('docs/plan/README.md')?.toString()).not.toContain('CODE.md');
  });
});
