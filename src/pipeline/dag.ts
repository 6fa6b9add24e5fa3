import type { Pipeline, PipelineTask, StartupSpec, StartupTemplate } from '../api/index.ts';
import { fanOutName } from './names.ts';

/** The pipeline a Startup runs: its own, else its template's; none when neither has one. */
export function pipelineOf(spec: Pick<StartupSpec, 'pipeline'>, template: StartupTemplate | undefined): Pipeline | undefined {
  return spec.pipeline ?? template?.spec?.pipeline;
}

/** Most items one fan-out expands to: bounds the Jobs and status entries a single decompose can cause. */
export const MAX_FAN_OUT = 16;

/**
 * One schedulable task. A task with `forEach` becomes one instance per work item of the
 * task it fans out over once that task's output exists (`item` is the index); until then
 * it is a single placeholder instance that cannot start (`awaiting`).
 */
export type TaskInstance = {
  name: string;
  task: PipelineTask;
  dependsOn: string[];
  item?: number;
  /** The task whose output this fan-out waits for before it can expand. */
  awaiting?: string;
};

/**
 * The pipeline's tasks as instances, in an order where every task comes after what it
 * depends on (the order tasks start in when slots are short). `workItems(name)` says how
 * many work items a finished task produced, or undefined while it has no output.
 * A dependency on a fanned-out task means a dependency on every one of its instances.
 */
export function expandPipeline(tasks: readonly PipelineTask[], workItems: (task: string) => number | undefined): TaskInstance[] {
  const byName = new Map(tasks.map((t) => [t.name, t]));
  const instancesOf = new Map<string, string[]>();
  const out: TaskInstance[] = [];
  for (const task of topological(tasks)) {
    const dependsOn = task.dependsOn.flatMap((d) => instancesOf.get(d) ?? []);
    if (task.forEach === undefined || byName.get(task.forEach)?.forEach !== undefined) {
      // A fan-out over a fan-out has no single output to expand from; it runs once, over nothing.
      out.push({ name: task.name, task, dependsOn });
      instancesOf.set(task.name, [task.name]);
      continue;
    }
    const count = workItems(task.forEach);
    if (count === undefined) {
      out.push({ name: task.name, task, dependsOn, awaiting: task.forEach });
      instancesOf.set(task.name, [task.name]);
      continue;
    }
    const names: string[] = [];
    for (let i = 0; i < Math.min(count, MAX_FAN_OUT); i++) {
      const name = fanOutName(task.name, i);
      out.push({ name, task, dependsOn, item: i });
      names.push(name);
    }
    instancesOf.set(task.name, names);
  }
  return out;
}

/** Kahn's order, ties broken by the pipeline's own order, so the result is stable. */
function topological(tasks: readonly PipelineTask[]): PipelineTask[] {
  const remaining = new Map(tasks.map((t) => [t.name, new Set(t.dependsOn)]));
  const order: PipelineTask[] = [];
  while (remaining.size > 0) {
    const next = tasks.find((t) => remaining.has(t.name) && [...remaining.get(t.name)!].every((d) => !remaining.has(d)));
    // The API refuses cycles; should one slip through, the rest keeps the pipeline's order rather than looping.
    const task = next ?? tasks.find((t) => remaining.has(t.name))!;
    remaining.delete(task.name);
    order.push(task);
  }
  return order;
}

/** The pipeline task an instance name stands for: itself, or the fan-out task it is one item of. */
export function taskDefinition(tasks: readonly PipelineTask[], instance: string): PipelineTask | undefined {
  const exact = tasks.find((t) => t.name === instance);
  if (exact) return exact;
  const match = /^(.*)-(\d+)$/.exec(instance);
  return match ? tasks.find((t) => t.name === match[1] && t.forEach !== undefined) : undefined;
}
