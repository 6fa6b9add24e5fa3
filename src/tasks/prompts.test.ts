import { describe, expect, it } from 'vitest';
import { TASK_TYPES } from '../api/index.ts';
import { ACME, HOSTILE, inputFor, offlinePipeline } from '../../test/support/task-fixtures.ts';
import { CONTEXT_TOKEN_BUDGET, renderPrompt } from './prompts.ts';

const steps = offlinePipeline(ACME);
const inputOf = (name: string) => steps.find((s) => s.input.task.name === name)!.input;

describe('renderPrompt', () => {
  it('renders the built-in prompt of every type, with the facts appended', () => {
    for (const type of TASK_TYPES) {
      const { input } = steps.find((s) => s.input.task.type === type)!;
      const { system, user } = renderPrompt(input);
      expect(system).toContain('"Acme Pay"');
      expect(system).toContain(`matches the "${type}" output schema`);
      expect(user).toContain('Acme Pay');
      expect(user).toContain('# The startup\n- Name: Acme Pay\n- Industry: fintech');
      expect(user).toContain(`- Idea: ${ACME.idea}`);
      for (const dep of input.dependencies) expect(user).toContain(`## ${dep.name} (${dep.type})\n\n\`\`\`json\n{`);
    }
  });

  it('tells analysis and codegen what they work on', () => {
    expect(renderPrompt(inputOf('founder-analysis')).user).toMatch(/^Analyse the founder of Acme Pay, Ada Lovelace,/);
    expect(renderPrompt(inputOf('business-model')).user).toMatch(/^Turn the findings of market-research, founder-analysis into a business model/);
    const codegen = renderPrompt(inputOf('codegen-wi-2')).user;
    expect(codegen).toMatch(/^Implement work item wi-2, "Payments workspace", of Acme Pay in the nextjs scaffold/);
    expect(codegen).toContain('# The work item: wi-2, Payments workspace');
    expect(codegen).toContain('- frontend/app/payments-workspace/page.tsx');
  });

  it('replaces the instructions with a custom prompt but keeps the facts and dependencies', () => {
    const input = inputOf('architecture');
    const custom = { ...input, task: { ...input.task, prompt: 'Design {{ startup.displayName }} for {{ deps["mvp-spec"].productName }} on {{ startup.template.framework }}.' } };
    const { user } = renderPrompt(custom);
    expect(user).toMatch(/^Design Acme Pay for Acme Pay on nextjs\.\n\n# The startup\n/);
    expect(user).not.toContain('Name the components');
    expect(user).toContain('## mvp-spec (spec)');
  });

  it('refuses an unsafe custom prompt with a one-line message', () => {
    const input = inputFor(ACME, { name: 'research', type: 'research', prompt: '{{ range.constructor("return process")() }}' });
    expect(() => renderPrompt(input)).toThrow(/^prompt of task research: line 1, column \d+: the (name|attribute) "constructor" is not allowed$/);
    const including = inputFor(ACME, { name: 'research', type: 'research', prompt: '{% include "/etc/passwd" %}' });
    expect(() => renderPrompt(including)).toThrow(/^prompt of task research: .*cannot load other files$/);
  });

  it('reports a custom prompt that does not render on one line', () => {
    const broken = inputFor(ACME, { name: 'spec', type: 'spec', prompt: 'Hello {{ startup.displayName' });
    expect(() => renderPrompt(broken)).toThrow(/^prompt of task spec: [^\n]+$/);
    const missing = inputFor(ACME, { name: 'spec', type: 'spec', prompt: 'Item {{ workItem.id }}' });
    expect(() => renderPrompt(missing)).toThrow(/^prompt of task spec: [^\n]+$/);
  });

  it('keeps template syntax inside values as text', () => {
    const input = inputFor(HOSTILE, { name: 'market-research', type: 'research', prompt: 'About {{ startup.category }} and {{ startup.idea }}' });
    const { user } = renderPrompt(input);
    expect(user).toContain('About {{ 7*7 }} and Costs $100');
    expect(user).toContain('- Category: {{ 7*7 }}');
    expect(user).not.toContain('49');
    expect(renderPrompt({ ...input, task: { name: 'r', type: 'research' } }).user).toContain('<script>alert(1)</script> {{ 7*7 }}');
  });

  it('cuts each dependency output so the prompt stays bounded', () => {
    const big = { summary: 'x'.repeat(50_000) };
    const input = inputFor(ACME, { name: 'mvp-spec', type: 'spec' }, [{ name: 'business-model', type: 'analysis', output: big }]);
    const { user } = renderPrompt(input);
    expect(user).toContain('... (cut at 12000 of 50014 characters)');
    expect(user.length).toBeLessThan(15_000);
  });

  it('carries the shared context apart from the task, fitted to its budget', () => {
    const input = inputOf('architecture');
    expect(renderPrompt(input).context).toBe('');
    const context = [
      { source: 'market-research', topic: 'competitors' as const, title: 'Competitors', text: '- Payoneer: cross-border payouts', priority: 70 },
      { source: 'founder-analysis', topic: 'founder' as const, title: 'Founder', text: 'y'.repeat(40_000), priority: 10 },
    ];
    const prompt = renderPrompt({ ...input, context });
    expect(prompt.context).toMatch(/^# What the team has found so far\n/);
    expect(prompt.context).toContain('## Competitors (from market-research)\n\n- Payoneer: cross-border payouts');
    expect(prompt.context.length).toBeLessThan(4 * CONTEXT_TOKEN_BUDGET + 1_000);
    expect(prompt.user).not.toContain('Payoneer');
    // Fan-out items share their system prompt: a prefix providers' prompt caches reuse.
    expect(renderPrompt(inputOf('codegen-wi-1')).system).toBe(renderPrompt(inputOf('codegen-wi-2')).system);
    expect(prompt.user).toContain('# This task\n- Name: architecture');
  });
});
