import type { TaskType } from '../api/index.ts';
import type { ContextEntry } from './context.ts';
import type { TaskOutput } from './schemas.ts';

/** One unit of work produced by a `decompose` task; a `codegen` task with `forEach` gets one each. */
export type WorkItem = {
  id: string;
  title: string;
  description: string;
  /** Paths (relative to the scaffold's root) the item creates or changes. */
  files: string[];
  acceptanceCriteria: string[];
};

/**
 * Everything a task attempt is given by the gateway: the startup it works for, the task
 * itself and the validated outputs of the tasks it depends on. Plain JSON: it crosses
 * the wire from the operator to the task Job.
 */
export type TaskInput = {
  startup: {
    name: string;
    displayName: string;
    industry: string;
    category: string;
    idea: string;
    founder: { name: string; skills: string[]; experience: string; goals: string };
    template: { name: string; framework: string };
  };
  task: {
    name: string;
    type: TaskType;
    /** `pipeline[].prompt`: a Nunjucks template replacing the type's built-in instructions. */
    prompt?: string;
    /** Set on a fan-out task (`forEach`): the work item it implements. */
    workItem?: WorkItem;
  };
  dependencies: { name: string; type: TaskType; output: unknown }[];
  /**
   * The shared context: insights of every task this one builds on beyond its direct
   * dependencies (whose whole outputs it has), in pipeline order, whoever produced them.
   */
  context: ContextEntry[];
};

/** The dependencies of one type, in pipeline order; their outputs were validated when posted. */
export function dependenciesOf<T extends TaskType>(input: TaskInput, type: T): { name: string; output: TaskOutput<T> }[] {
  return input.dependencies
    .filter((d) => d.type === type)
    .map((d) => ({ name: d.name, output: d.output as TaskOutput<T> }));
}

/** The work item a codegen dependency implemented: its own id, or the task's name when it had none. */
export function implementedWorkItem(dependency: { name: string; output: TaskOutput<'codegen'> }): string {
  return dependency.output.workItem || dependency.name;
}
