import { startupProfile, type StartupSpec, type StartupTemplate } from '../api/index.ts';
import type { TaskInput, WorkItem } from '../tasks/input.ts';
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
};

export type AttemptInput = { ok: true; instance: TaskInstance; input: TaskInput } | { ok: false; message: string };

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
  const { spec } = sources;
  return {
    ok: true,
    instance,
    input: {
      startup: { ...startupProfile(sources.name, spec), template: { name: spec.template, framework: sources.template?.spec?.framework ?? '' } },
      task: {
        name: instance.name,
        type: instance.task.type,
        ...(instance.task.prompt ? { prompt: instance.task.prompt } : {}),
        ...(workItem ? { workItem } : {}),
      },
      dependencies,
    },
  };
}
