import { describe, expect, it } from 'vitest';
import { ACME, HOSTILE, offlinePipeline } from '../../test/support/task-fixtures.ts';
import { fence, toMarkdown } from './markdown.ts';
import type { TaskOutput } from './schemas.ts';

const markdownOf = (startup: typeof ACME) =>
  offlinePipeline(startup).map(({ input, output }) => ({
    name: input.task.name,
    output,
    markdown: toMarkdown(input.task.type, input.task.name, output, startup.displayName),
  }));

const docs = markdownOf(ACME);
const doc = (name: string) => docs.find((d) => d.name === name)!;

describe('toMarkdown', () => {
  it('titles every document with the task and the startup, deterministically', () => {
    for (const d of docs) {
      expect(d.markdown.split('\n')[0]).toMatch(new RegExp(`^# .+ for Acme Pay \\(${d.name}\\)$`));
      expect(d.markdown.endsWith('\n')).toBe(true);
    }
    expect(markdownOf(ACME).map((d) => d.markdown)).toEqual(docs.map((d) => d.markdown));
  });

  it('carries the key content of each type', () => {
    const research = doc('market-research').output as TaskOutput<'research'>;
    expect(doc('market-research').markdown).toContain(`| ${research.competitors[0]!.name} | ${research.competitors[0]!.positioning} |`);
    expect(doc('market-research').markdown).toContain('## Sources\n\n- [\\[offline demo\\] Search: payments in fintech market size](<https://duckduckgo.com/?q=');

    const analysis = doc('business-model').output as TaskOutput<'analysis'>;
    expect(doc('business-model').markdown).toContain(`1. ${analysis.recommendations[0]}`);

    const spec = doc('mvp-spec').output as TaskOutput<'spec'>;
    for (const feature of spec.features) expect(doc('mvp-spec').markdown).toContain(`### ${feature.name} (${feature.priority})`);

    expect(doc('architecture').markdown).toContain('| GET | `/api/dashboard` |');

    const plan = doc('decompose').output as TaskOutput<'decompose'>;
    for (const item of plan.workItems) {
      expect(doc('decompose').markdown).toContain(`## ${item.id}: ${item.title}`);
      for (const file of item.files) expect(doc('decompose').markdown).toContain(`- \`${file}\``);
    }

    const codegen = doc('codegen-wi-1').output as TaskOutput<'codegen'>;
    expect(doc('codegen-wi-1').markdown).toContain('Work item: `wi-1`');
    for (const file of codegen.files) expect(doc('codegen-wi-1').markdown).toContain(`| \`${file.path}\` |`);

    expect(doc('review').markdown).toContain('**Verdict: approved**');
    expect(doc('review').markdown).toContain('| `wi-4` | approve |');
  });

  it('keeps hostile text from breaking tables, links and code spans', () => {
    const research: TaskOutput<'research'> = {
      ...(doc('market-research').output as TaskOutput<'research'>),
      competitors: [{ name: 'A | B', positioning: 'line one\nline two', strengths: ['`tick`'], weaknesses: [] }],
      sources: [{ title: 'see [this]', url: 'https://example.com/a b)' }],
    };
    const markdown = toMarkdown('research', 'market-research', research, HOSTILE.displayName);
    expect(markdown).toContain('| A \\| B | line one line two | `tick` |   |');
    expect(markdown).toContain('- [see \\[this\\]](<https://example.com/a%20b)>)');
    expect(markdown.split('\n')[0]).toBe('# Market research for <script>alert(1)</script> {{ 7*7 }} (market-research)');
  });

  it('renders lists that are empty as such', () => {
    const review = { ...(doc('review').output as TaskOutput<'review'>), issues: [] };
    expect(toMarkdown('review', 'review', review, 'Acme Pay')).toContain('## Issues\n\n_None._');
  });
});

describe('fence', () => {
  it('is longer than any backtick run of its content', () => {
    expect(fence('a ```` b', 'md')).toBe('`````md\na ```` b\n`````');
    expect(fence('plain\n')).toBe('```\nplain\n```');
  });
});
