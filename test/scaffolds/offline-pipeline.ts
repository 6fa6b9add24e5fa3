import type { TaskType } from '../../src/api/index.ts';
import { exportTree } from '../../src/pipeline/code.ts';
import { expandPipeline, pipelineOf } from '../../src/pipeline/dag.ts';
import { attemptInput, type InputSources } from '../../src/pipeline/input.ts';
import type { PlanDocument } from '../../src/pipeline/plan.ts';
import type { OutputView } from '../../src/pipeline/state.ts';
import { offlineOutput } from '../../src/providers/offline.ts';
import type { TaskInput } from '../../src/tasks/input.ts';
import { toMarkdown } from '../../src/tasks/markdown.ts';
import { scoreOutput } from '../../src/tasks/rubric.ts';
import type { TaskOutput } from '../../src/tasks/schemas.ts';
import { validateOutput } from '../../src/tasks/validate.ts';
import type { RenderInput } from '../../src/templates/index.ts';
import { toStartupTemplate } from '../../src/templates/load.ts';
import { renderBuiltin, type BuiltinName } from './startups.ts';

export type Step = { task: string; type: TaskType; input: TaskInput; output: TaskOutput; quality: number };

/**
 * A startup's pipeline answered by the offline provider, in-process: expanded and given
 * its inputs exactly as the operator does (`expandPipeline`, `attemptInput`), with the
 * stored outputs in memory instead of ConfigMaps. Tasks run one at a time, each as soon as
 * its dependencies have outputs, in the pipeline's dependency order.
 */
export async function runOfflinePipeline(input: RenderInput): Promise<Step[]> {
  const template = toStartupTemplate(input.template);
  const pipeline = pipelineOf(input.spec, template);
  if (!pipeline) throw new Error(`template ${input.template.name} has no pipeline`);
  const outputs = new Map<string, OutputView>();
  const stored = new Map<string, string>();
  const sources: InputSources = {
    name: input.name,
    spec: input.spec,
    template,
    outputs,
    // Read back from JSON, as the gateway reads a ConfigMap.
    readOutput: async (task) => JSON.parse(stored.get(task) ?? 'null') as unknown,
    // Nothing recorded: attemptInput makes the shared context from the outputs, as it does for outputs stored without one.
    readContext: async () => new Map(),
  };
  const steps: Step[] = [];
  for (;;) {
    const instances = expandPipeline(pipeline.tasks, (task) => outputs.get(task)?.workItems);
    const next = instances.find((i) => !outputs.has(i.name) && !i.awaiting && i.dependsOn.every((d) => outputs.has(d)));
    if (!next) {
      const left = instances.filter((i) => !outputs.has(i.name)).map((i) => i.name);
      if (left.length > 0) throw new Error(`tasks ${left.join(', ')} never became ready`);
      return steps;
    }
    const attempt = await attemptInput(sources, next.name);
    if (!attempt.ok) throw new Error(`${next.name}: ${attempt.message}`);
    const type = next.task.type;
    const validation = validateOutput(type, offlineOutput(attempt.input));
    if (!validation.ok) throw new Error(`${next.name}: ${validation.issues.join('; ')}`);
    const output = validation.output;
    const quality = scoreOutput(type, output, attempt.input);
    stored.set(next.name, JSON.stringify(output, null, 2));
    outputs.set(next.name, {
      name: next.name,
      provider: 'offline',
      model: 'offline-v1',
      quality,
      rubricQuality: undefined,
      attempt: 1,
      finishedAt: undefined,
      workItems: type === 'decompose' ? (output as TaskOutput<'decompose'>).workItems.length : undefined,
    });
    steps.push({ task: next.name, type, input: attempt.input, output, quality });
  }
}

/** The stored outputs as `startup-factory export` reads them back, in the order they were produced. */
export function planDocuments(steps: readonly Step[], displayName: string): PlanDocument[] {
  return steps.map((s) => ({
    task: s.task,
    json: JSON.stringify(s.output, null, 2),
    markdown: toMarkdown(s.type, s.task, s.output as never, displayName),
    provider: 'offline',
    model: 'offline-v1',
    quality: s.quality.toFixed(3),
  }));
}

/** A built-in template rendered for its test startup, and what `startup-factory export` writes after an offline pipeline. */
export async function exportedBuiltin(template: BuiltinName) {
  const { input, tree: scaffold, context } = await renderBuiltin(template);
  const steps = await runOfflinePipeline(input);
  return { input, context, scaffold, steps, ...exportTree(scaffold, planDocuments(steps, input.spec.displayName)) };
}
