import { startupProfile, type StartupSpec, type StartupTemplate } from '../api/index.ts';
import { extractInsights, type ContextEntry } from '../tasks/context.ts';
import type { TaskInput, WorkItem } from '../tasks/input.ts';
import type { TaskOutput } from '../tasks/schemas.ts';
import { expandPipeline, pipelineOf, type TaskInstance } from './dag.ts';
import type { OutputView } from './state.ts';

export type InputSources = {
  name: string;
  spec: StartupSpec;
  template: StartupTemplate | undefined;
  /** The startup's stored outputs, as metadata. */
  outputs: ReadonlyMap<string, OutputView>;
  /** The JSON of one stored output. */
  readOutput(task: string): Promise<unknown>;
  /** The startup's shared context as stored, by source task. */
  readContext(): Promise<ReadonlyMap<string, ContextEntry[]>>;
};

export type AttemptInput =
  | {
    ok: true;
    instance: TaskInstance;
    input: TaskInput;
    /** Context entries the stored context lacked (an output stored by a gateway that died before recording them), made from their outputs. */
    extracted: Map<string, ContextEntry[]>;
  }
  | { ok: false; message: string };

/**
 * What a task attempt is given: the startup's facts, its task (with the work item of a
 * fan-out) and the outputs of the tasks it depends on, read from their ConfigMaps. The
 * pipeline is expanded exactly as the scheduler expands it, so the instance an attempt
 * was started for is the one it is told about.
 */
export async function attemptInput(sources: InputSources, task: string): Promise<AttemptInput> {
  const pipeline = pipelineOf(sources.spec, sources.template);
  if (!pipeline) return { ok: false, message: 'the startup has no pipeline' };
  const instances = expandPipeline(pipeline.tasks, (t) => sources.outputs.get(t)?.workItems);
  const instance = instances.find((i) => i.name === task);
  if (!instance) return { ok: false, message: `task ${task} is not in the startup's pipeline` };
  const byName = new Map(instances.map((i) => [i.name, i]));
  const dependencies: TaskInput['dependencies'] = [];
  for (const name of instance.dependsOn) {
    const dep = byName.get(name);
    if (!dep || !sources.outputs.has(name)) return { ok: false, message: `dependency ${name} of task ${task} has no output yet` };
    dependencies.push({ name, type: dep.task.type, output: await sources.readOutput(name) });
  }
  let workItem: WorkItem | undefined;
  if (instance.item !== undefined && instance.task.forEach) {
    const source = dependencies.find((d) => d.name === instance.task.forEach)?.output as { workItems?: WorkItem[] } | undefined;
    workItem = source?.workItems?.[instance.item];
    if (!workItem) return { ok: false, message: `work item ${instance.item} of ${instance.task.forEach} does not exist` };
  }
  const { context, extracted } = await sharedContext(sources, instance, instances);
  const { spec } = sources;
  return {
    ok: true,
    instance,
    extracted,
    input: {
      startup: { ...startupProfile(sources.name, spec), template: { name: spec.template, framework: sources.template?.spec?.framework ?? '' } },
      task: {
        name: instance.name,
        type: instance.task.type,
        ...(instance.task.prompt ? { prompt: instance.task.prompt } : {}),
        ...(workItem ? { workItem } : {}),
      },
      dependencies,
      context,
    },
  };
}

/**
 * The context an instance is given: the insights of its ancestors beyond its direct
 * dependencies, in pipeline order. Only ancestors, never tasks that merely finished
 * earlier: what a task is told must not depend on timing (two fan-out items side by
 * side would otherwise see different contexts, and identical calls would miss the cache).
 */
async function sharedContext(sources: InputSources, instance: TaskInstance, instances: readonly TaskInstance[]): Promise<{ context: ContextEntry[]; extracted: Map<string, ContextEntry[]> }> {
  const byName = new Map(instances.map((i) => [i.name, i]));
  const ancestors = new Set<string>();
  const visit = (name: string) => {
    for (const d of byName.get(name)?.dependsOn ?? []) {
      if (!ancestors.has(d)) {
        ancestors.add(d);
        visit(d);
      }
    }
  };
  visit(instance.name);
  for (const d of instance.dependsOn) ancestors.delete(d);
  const extracted = new Map<string, ContextEntry[]>();
  if (ancestors.size === 0) return { context: [], extracted };
  const stored = await sources.readContext();
  const context: ContextEntry[] = [];
  for (const ancestor of instances.filter((i) => ancestors.has(i.name) && sources.outputs.has(i.name))) {
    let entries = stored.get(ancestor.name);
    if (!entries) {
      const output = await sources.readOutput(ancestor.name) as TaskOutput;
      entries = extractInsights(ancestor.task.type, ancestor.name, output, ancestor.dependsOn.length === 0);
      extracted.set(ancestor.name, entries);
    }
    context.push(...entries);
  }
  return { context, extracted };
}
