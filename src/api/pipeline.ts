import { z } from 'zod';
import { withRules } from './cel.ts';
import { DNS_LABEL, distinct, dnsSubdomain, text } from './common.ts';

export const TASK_TYPES = ['research', 'analysis', 'spec', 'architecture', 'decompose', 'codegen', 'review'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export const MAX_PIPELINE_TASKS = 32;
const MAX_DEPENDENCIES = 16;

const taskName = (description: string) =>
  z.string().min(1).max(48).regex(new RegExp(DNS_LABEL), 'must be a lowercase RFC 1123 label').describe(description);

export const pipelineTaskSchema = withRules(
  z.strictObject({
    name: taskName('Name of the task, unique in the pipeline; part of its Jobs\' names.'),
    type: z.enum(TASK_TYPES).describe('Kind of work, which fixes the output schema and quality rubric: research, analysis, spec, architecture, decompose, codegen or review.'),
    dependsOn: z.array(taskName('Name of a task of the same pipeline.')).max(MAX_DEPENDENCIES)
      .refine(distinct(), { message: 'must not name a task twice' }).default([])
      .meta({ 'x-kubernetes-list-type': 'set' })
      .describe('Tasks that must succeed before this one starts; their outputs join its context.'),
    provider: dnsSubdomain('AIProvider to use for this task, overriding routing.').optional(),
    model: text(128, 1).optional().describe('Model to ask for, overriding the provider\'s default model.'),
    prompt: text(16384, 1).optional().describe('Instructions for the task, a Nunjucks template over the startup\'s spec and shared context; the task type\'s built-in prompt when unset.'),
    forEach: taskName('A task listed in dependsOn whose output work items this task fans out over: one Job per item.').optional(),
  }),
  [
    {
      rule: '!(self.name in self.dependsOn)',
      message: 'a task cannot depend on itself',
      fieldPath: '.dependsOn',
      check: (t) => !t.dependsOn.includes(t.name),
    },
    {
      rule: '!has(self.forEach) || self.forEach in self.dependsOn',
      message: 'forEach must name a task listed in dependsOn',
      fieldPath: '.forEach',
      check: (t) => t.forEach === undefined || t.dependsOn.includes(t.forEach),
    },
  ],
).describe('One step of the pipeline, run as Kubernetes Jobs.');

export const pipelineSchema = z.strictObject({
  tasks: withRules(
    z.array(pipelineTaskSchema).min(1).max(MAX_PIPELINE_TASKS)
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] }),
    [
      {
        rule: 'self.all(t, t.dependsOn.all(d, self.exists(u, u.name == d)))',
        message: 'every dependsOn must name a task of the same pipeline',
        check: (tasks) => tasks.every((t) => t.dependsOn.every((d) => tasks.some((u) => u.name === d))),
      },
      {
        rule: 'self.all(t, self.exists_one(u, u.name == t.name))',
        message: 'task names must be unique',
        check: (tasks) => new Set(tasks.map((t) => t.name)).size === tasks.length,
      },
    ],
  ).refine((tasks) => findCycle(tasks) === undefined, { message: 'the tasks\' dependsOn must not form a cycle' })
    .describe('The tasks, a directed acyclic graph through dependsOn.'),
}).describe('A DAG of AI tasks run as Jobs in the startup\'s namespace.');

/**
 * A dependency cycle, as the list of task names along it, or undefined. CEL has no
 * recursion, so the API server cannot refuse cycles; the operator and the CLI do.
 */
export function findCycle(tasks: readonly { name: string; dependsOn: readonly string[] }[]): string[] | undefined {
  const deps = new Map(tasks.map((t) => [t.name, t.dependsOn]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of deps.get(name) ?? []) {
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const t of tasks) {
    const cycle = visit(t.name);
    if (cycle) return cycle;
  }
  return undefined;
}
