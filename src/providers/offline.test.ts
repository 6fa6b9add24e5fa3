import { spawnSync } from 'node:child_process';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import type { TaskType } from '../api/index.ts';
import { renderBuiltin, type BuiltinName } from '../../test/scaffolds/startups.ts';
import { ACME, HOSTILE, inputFor, offlinePipeline, withFramework, type Step } from '../../test/support/task-fixtures.ts';
import { mergeCode } from '../pipeline/code.ts';
import { scoreOutput } from '../tasks/rubric.ts';
import type { TaskOutput } from '../tasks/schemas.ts';
import { validateOutput } from '../tasks/validate.ts';
import { offlineOutput } from './offline.ts';

const STARTUPS = {
  'Acme on Next.js': ACME,
  'Acme on Nuxt': withFramework(ACME, 'vuenuxt', 'nuxt'),
  'a hostile startup on Flutter': HOSTILE,
  'a hostile startup on Next.js': withFramework(HOSTILE, 'reactnext', 'nextjs'),
  'a hostile startup on Nuxt': withFramework(HOSTILE, 'vuenuxt', 'nuxt'),
  'a hostile startup on an unknown framework': withFramework(HOSTILE, 'rails', 'rails'),
  'a startup with nothing but a name': {
    name: 'solo',
    displayName: 'Solo',
    industry: '',
    category: '',
    idea: '',
    founder: { name: '', skills: [], experience: '', goals: '' },
    template: { name: 'reactnext', framework: 'nextjs' },
  },
};

const pipelines = Object.entries(STARTUPS).map(([label, startup]) => ({ label, startup, steps: offlinePipeline(startup) }));
const hostile = pipelines.filter((p) => p.startup.name === HOSTILE.name);
const outputsOf = <T extends TaskType>(steps: Step[], type: T) =>
  steps.filter((s) => s.input.task.type === type).map((s) => s.output as TaskOutput<T>);
const codeFiles = (steps: Step[]) => outputsOf(steps, 'codegen').flatMap((o) => o.files);

/** Where each type states that it is demo content. */
const LABELLED: { [T in TaskType]: (o: TaskOutput<T>) => string } = {
  research: (o) => o.summary,
  analysis: (o) => o.summary,
  spec: (o) => o.problem,
  architecture: (o) => o.overview,
  decompose: (o) => o.workItems[0]!.description,
  codegen: (o) => o.summary,
  review: (o) => o.summary,
};

describe.each(pipelines)('offlineOutput for $label', ({ startup, steps }) => {
  it('writes valid, labelled output for every task, which scores at least 0.6', () => {
    for (const { input, output } of steps) {
      const type = input.task.type;
      expect(validateOutput(type, output), input.task.name).toEqual({ ok: true, output });
      expect(scoreOutput(type, output, input), input.task.name).toBeGreaterThanOrEqual(0.6);
      expect((LABELLED[type] as (o: TaskOutput) => string)(output)).toMatch(/^\[offline demo\] /);
    }
  });

  it('writes the same bytes for the same input', () => {
    expect(JSON.stringify(offlinePipeline(startup))).toBe(JSON.stringify(steps));
  });

  it('builds each task on its dependencies', () => {
    const [spec] = outputsOf(steps, 'spec');
    const [design] = outputsOf(steps, 'architecture');
    const [plan] = outputsOf(steps, 'decompose');
    expect(design!.pages).toHaveLength(spec!.features.length);
    expect(plan!.workItems.length).toBeGreaterThanOrEqual(3);
    expect(plan!.workItems.length).toBeLessThanOrEqual(4);
    expect(plan!.workItems.map((w) => `/${w.title.toLowerCase().replace(/ /g, '-')}`)).toEqual(design!.pages.slice(0, 4).map((p) => p.route));
    for (const { input, output } of steps.filter((s) => s.input.task.type === 'codegen')) {
      const written = (output as TaskOutput<'codegen'>).files.map((f) => f.path);
      expect(written).toEqual(input.task.workItem!.files);
    }
    const [review] = outputsOf(steps, 'review');
    expect(review!.items.map((i) => i.workItem)).toEqual(plan!.workItems.map((w) => w.id));
  });
});

describe('offline code', () => {
  /** Syntax errors of a TypeScript or TSX source, as messages. */
  const tsErrors = (source: string, fileName: string) =>
    (ts.transpileModule(source, { fileName, reportDiagnostics: true, compilerOptions: { jsx: ts.JsxEmit.Preserve } }).diagnostics ?? [])
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));

  /** The value of `const content = {...} as const;`, which carries the user's text into the page. */
  const contentOf = (source: string) => JSON.parse(/^const content = (\{.*\}) as const;$/m.exec(source)![1]!) as { startup: string; description: string };

  it('is valid TypeScript and keeps user text inside string literals', () => {
    expect(tsErrors('const a = <p>{"x"</p>;', 'broken.tsx')).not.toEqual([]);
    for (const { startup, steps } of pipelines) {
      for (const file of codeFiles(steps).filter((f) => /\.tsx?$/.test(f.path))) {
        expect(tsErrors(file.content, file.path), file.path).toEqual([]);
        if (file.path.endsWith('.tsx')) expect(contentOf(file.content).startup).toBe(startup.displayName);
      }
    }
    const pages = hostile.flatMap((p) => codeFiles(p.steps)).filter((f) => /\.(tsx|vue)$/.test(f.path));
    expect(pages.length).toBeGreaterThan(0);
    for (const page of pages) {
      expect(page.content).not.toContain('<script>alert');
      expect(page.content).not.toContain('</script> {{');
    }
  });

  it('writes Vue pages whose script block cannot be closed by user text', () => {
    for (const { startup, steps } of pipelines.filter((p) => p.startup.template.framework === 'nuxt')) {
      for (const file of codeFiles(steps).filter((f) => f.path.endsWith('.vue'))) {
        const match = /^<script setup lang="ts">\n([^]*?)\n<\/script>\n\n<template>\n([^]*)<\/template>\n$/.exec(file.content);
        expect(match, file.path).not.toBeNull();
        expect(file.content.match(/<\/script>/g)).toHaveLength(1);
        expect(tsErrors(match![1]!, 'page.ts')).toEqual([]);
        expect(contentOf(match![1]!).startup).toBe(startup.displayName);
        // The template interpolates fixed expressions only; user text lives in the script's literal.
        expect(match![2]!.match(/\{\{[^}]*\}\}/g)).toEqual([
          '{{ content.title }}', '{{ content.description }}', '{{ criterion }}', '{{ entry.title }}', '{{ entry.detail }}',
        ]);
      }
    }
  });

  const hasPython = spawnSync('python3', ['--version']).status === 0;

  it.skipIf(!hasPython)('writes Python that parses, with user text as plain string constants', () => {
    const script = [
      'import ast, json, sys',
      'print(json.dumps([[ast.get_docstring(ast.parse(src))] + [n.value for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Constant) and isinstance(n.value, str)] for src in json.load(sys.stdin)]))',
    ].join('\n');
    for (const { startup, steps } of pipelines) {
      const files = codeFiles(steps).filter((f) => f.path.endsWith('.py'));
      if (files.length === 0) continue;
      const run = spawnSync('python3', ['-c', script], { input: JSON.stringify(files.map((f) => f.content)), encoding: 'utf8' });
      expect(run.stderr).toBe('');
      const parsed = JSON.parse(run.stdout) as string[][];
      for (const [docstring] of parsed) expect(docstring).toContain(`API of ${startup.displayName}`);
      expect(parsed.flat().some((s) => s.includes(startup.idea.replace(/\s+/g, ' ').slice(0, 40)))).toBe(true);
    }
  });

  /** The single-quoted strings of a Dart source, decoded; throws where a quote, `$` or line break would escape one. */
  function dartStrings(source: string): string[] {
    const strings: string[] = [];
    for (let i = 0; i < source.length; i++) {
      if (source.startsWith('//', i)) {
        i = source.indexOf('\n', i);
        if (i === -1) break;
      } else if (source[i] === '"') {
        throw new Error(`a double quote outside a string at ${i}`);
      } else if (source[i] === '\'') {
        let value = '';
        for (i++; source[i] !== '\''; i++) {
          const c = source[i];
          if (c === undefined || c === '\n') throw new Error('an unterminated string');
          if (c === '$') throw new Error('an interpolation in a string');
          if (c !== '\\') {
            value += c;
            continue;
          }
          const next = source[++i];
          if (next === 'u') {
            const end = source.indexOf('}', i);
            value += String.fromCodePoint(parseInt(source.slice(i + 2, end), 16));
            i = end;
          } else {
            value += next === 'n' ? '\n' : next;
          }
        }
        strings.push(value);
      }
    }
    return strings;
  }

  it('writes Dart whose strings hold user text without interpolating it', () => {
    const [flutter] = hostile.filter((p) => p.startup.template.framework === 'flutter');
    const screens = codeFiles(flutter!.steps).filter((f) => f.path.endsWith('.dart'));
    expect(screens.length).toBeGreaterThan(0);
    for (const screen of screens) {
      expect(screen.path).toMatch(/^lib\/screens\/[a-z][a-z0-9_]*_screen\.dart$/);
      expect(screen.content).toMatch(/^class [A-Z][A-Za-z0-9]*Screen extends StatelessWidget \{$/m);
      expect(dartStrings(screen.content).join('\n')).toContain(`of ${HOSTILE.displayName}`);
    }
    expect(dartStrings(screens[1]!.content).join('\n')).toContain('Costs $100 ${oops} \\ back\\slash </script>');
  });

  it('writes, for each web page, a router the scaffold mounts by itself and a pytest test of it', () => {
    const web = pipelines.filter((p) => ['nextjs', 'nuxt'].includes(p.startup.template.framework));
    expect(web.length).toBeGreaterThan(0);
    for (const { steps } of web) {
      for (const output of outputsOf(steps, 'codegen')) {
        const router = output.files.find((f) => /^backend\/app\/routes\/[a-z][a-z0-9_]*\.py$/.test(f.path))!;
        const test = output.files.find((f) => f.path.startsWith('backend/tests/'))!;
        expect(test.path).toBe(router.path.replace('app/routes/', 'tests/test_'));
        const prefix = /^router = APIRouter\(prefix=("[^"]+")/m.exec(router.content)![1]!;
        expect(test.content).toContain(`client.get(${prefix})`);
        expect(test.content).toContain(`client.post(${prefix}, `);
        expect(output.notes.join('\n')).not.toMatch(/mount|include_router/i);
      }
    }
  });

  // Pages named like what a scaffold already has: an api/ route directory, a health route and test, the Nuxt home page, /api/startup.
  const TAKEN = ['API', 'Health', 'Index', 'Startup'];
  const TEMPLATES: [BuiltinName, string][] = [['reactnext', 'nextjs'], ['vuenuxt', 'nuxt'], ['fluttermobile', 'flutter']];

  it.each(TEMPLATES)('never writes over a file or route of the %s scaffold, even for pages named like its own', async (template, framework) => {
    const startup = withFramework(ACME, template, framework);
    const [design] = outputsOf(offlinePipeline(startup), 'architecture');
    const architecture = { ...design!, pages: TAKEN.map((name) => ({ route: `/${name.toLowerCase()}`, purpose: `${name}: a page` })) };
    const plan = offlineOutput(inputFor(startup, { name: 'decompose', type: 'decompose' }, [{ name: 'architecture', type: 'architecture', output: architecture }])) as TaskOutput<'decompose'>;
    expect(plan.workItems.map((w) => w.title)).toEqual(['Api page', 'Health page', 'Index page', 'Startup page']);
    const code = plan.workItems.map((workItem, i) => ({
      task: `codegen-${i}`,
      output: offlineOutput(inputFor(startup, { name: `codegen-${i}`, type: 'codegen', workItem }, [{ name: 'decompose', type: 'decompose', output: plan }])) as TaskOutput<'codegen'>,
    }));
    const merge = mergeCode((await renderBuiltin(template)).tree, code);
    expect(merge.items.flatMap((i) => i.files).filter((f) => f.outcome !== 'added')).toEqual([]);
  });

  it('falls back to Markdown documents for a framework it does not know', () => {
    const [generic] = hostile.filter((p) => p.startup.template.framework === 'rails');
    const docs = codeFiles(generic!.steps);
    expect(docs.map((f) => f.path)).toEqual(docs.map((f) => expect.stringMatching(/^docs\/features\/[a-z][-a-z0-9]*\.md$/)));
    expect(docs[0]!.content).toContain(`of ${HOSTILE.displayName}`);
  });
});
