import { describe, expect, it } from 'vitest';
import { startupSpecSchema, type PipelineTask } from '../api/index.ts';
import { offlineOutput } from '../providers/offline.ts';
import { extractInsights, type ContextEntry } from '../tasks/context.ts';
import { attemptInput, type InputSources } from './input.ts';
import type { OutputView } from './state.ts';

const TASKS: PipelineTask[] = [
  { name: 'market-research', type: 'research', dependsOn: [] },
  { name: 'founder-analysis', type: 'analysis', dependsOn: [] },
  { name: 'business-model', type: 'analysis', dependsOn: ['market-research', 'founder-analysis'] },
  { name: 'mvp-spec', type: 'spec', dependsOn: ['business-model'] },
  { name: 'architecture', type: 'architecture', dependsOn: ['mvp-spec'] },
  { name: 'decompose', type: 'decompose', dependsOn: ['architecture'] },
  { name: 'codegen', type: 'codegen', dependsOn: ['decompose'], forEach: 'decompose' },
  { name: 'review', type: 'review', dependsOn: ['codegen'] },
];

const spec = startupSpecSchema.parse({
  template: 'reactnext', displayName: 'Acme Pay', industry: 'fintech', category: 'payments',
  idea: 'Instant payouts for freelancers.', founder: { name: 'Ada' }, pipeline: { tasks: TASKS },
});

/** The pipeline run offline in memory up to (not including) `until`, with what the stores hold. */
async function runUntil(until: string, context: Map<string, ContextEntry[]>) {
  const outputs = new Map<string, OutputView>();
  const json = new Map<string, unknown>();
  const reads: string[] = [];
  const sources: InputSources = {
    name: 'acme', spec, template: undefined, outputs,
    readOutput: async (task) => { reads.push(task); return json.get(task); },
    readContext: async () => context,
  };
  for (;;) {
    const next = ['market-research', 'founder-analysis', 'business-model', 'mvp-spec', 'architecture', 'decompose', 'codegen-0', 'codegen-1', 'codegen-2', 'review']
      .find((t) => !outputs.has(t))!;
    const result = await attemptInput(sources, next);
    if (!result.ok) throw new Error(result.message);
    if (next === until) return { result, reads, sources };
    const output = offlineOutput(result.input);
    json.set(next, output);
    const workItems = result.input.task.type === 'decompose' ? (output as { workItems: unknown[] }).workItems.length : undefined;
    outputs.set(next, { name: next, provider: 'offline', model: 'm', quality: 1, rubricQuality: undefined, attempt: 1, finishedAt: '', workItems });
    context.set(next, extractInsights(result.input.task.type, next, output as never, result.input.dependencies.length === 0));
  }
}

describe('attemptInput shared context', () => {
  it('gives a task the insights of its ancestors beyond its direct dependencies, in pipeline order', async () => {
    const { result } = await runUntil('architecture', new Map());
    expect(result.input.dependencies.map((d) => d.name)).toEqual(['mvp-spec']);
    expect([...new Set(result.input.context.map((e) => e.source))]).toEqual(['market-research', 'founder-analysis', 'business-model']);
    expect(result.extracted.size).toBe(0);
  });

  it('never includes a sibling fan-out item, whatever finished first', async () => {
    const { result } = await runUntil('codegen-2', new Map());
    const sources = new Set(result.input.context.map((e) => e.source));
    expect(sources.has('codegen-0')).toBe(false);
    expect(sources.has('market-research')).toBe(true);
    expect(sources.has('decompose')).toBe(false);
  });

  it('makes the entries the stored context lacks from their outputs, and says which', async () => {
    const context = new Map<string, ContextEntry[]>();
    const { result: full, reads, sources } = await runUntil('mvp-spec', context);
    context.delete('founder-analysis');
    reads.length = 0;
    const result = await attemptInput(sources, 'mvp-spec');
    if (!result.ok || !full.ok) throw new Error('no input');
    expect([...result.extracted.keys()]).toEqual(['founder-analysis']);
    expect(reads).toContain('founder-analysis');
    expect(result.input.context).toEqual(full.input.context);
  });

  it('gives a task with no ancestors beyond its dependencies no context and reads none', async () => {
    let read = false;
    const sources: InputSources = {
      name: 'acme', spec, template: undefined, outputs: new Map(),
      readOutput: async () => undefined, readContext: async () => { read = true; return new Map(); },
    };
    const result = await attemptInput(sources, 'market-research');
    expect(result.ok && result.input.context).toEqual([]);
    expect(read).toBe(false);
  });
});
