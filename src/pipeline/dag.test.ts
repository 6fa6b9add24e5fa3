import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { pipelineSchema, type Pipeline, type PipelineTask, type StartupTemplate } from '../api/index.ts';
import { MAX_FAN_OUT, expandPipeline, pipelineOf, taskDefinition, type TaskInstance } from './dag.ts';

/** The default pipeline of the reactnext template as shipped, parsed as the API parses it (dependsOn defaulted). */
function reactnextPipeline(): PipelineTask[] {
  const file = join(import.meta.dirname, '..', '..', 'templates', 'reactnext', 'template.yaml');
  const doc = parse(readFileSync(file, 'utf8')) as { pipeline: unknown };
  return pipelineSchema.parse(doc.pipeline).tasks;
}

const task = (name: string, dependsOn: string[] = [], over: Partial<PipelineTask> = {}): PipelineTask => ({
  name, type: 'analysis', dependsOn, ...over,
});

const template = (pipeline: Pipeline | undefined): StartupTemplate => ({
  apiVersion: 'startupfactory.dev/v1alpha1',
  kind: 'StartupTemplate',
  metadata: { name: 'reactnext' },
  spec: { description: 'a template', framework: 'nextjs', files: [], ...(pipeline ? { pipeline } : {}) },
});

const names = (instances: readonly TaskInstance[]) => instances.map((i) => i.name);
const byName = (instances: readonly TaskInstance[], name: string): TaskInstance => {
  const found = instances.find((i) => i.name === name);
  if (!found) throw new Error(`no instance ${name} in ${names(instances).join(', ')}`);
  return found;
};
const noOutputs = () => undefined;
const decomposed = (count: number) => (t: string) => (t === 'decompose' ? count : undefined);

/** Every instance comes after all of its dependencies. */
function expectDependencyOrder(instances: readonly TaskInstance[]): void {
  const seen = new Set<string>();
  for (const i of instances) {
    for (const d of i.dependsOn) expect(seen, `${i.name} comes before its dependency ${d}`).toContain(d);
    seen.add(i.name);
  }
}

describe('pipelineOf', () => {
  const own: Pipeline = { tasks: [task('only-mine')] };
  const theirs: Pipeline = { tasks: [task('from-template')] };

  it("prefers the Startup's own pipeline over its template's", () => {
    expect(pipelineOf({ pipeline: own }, template(theirs))).toBe(own);
  });

  it("falls back to the template's pipeline", () => {
    expect(pipelineOf({ pipeline: undefined }, template(theirs))).toBe(theirs);
  });

  it('is undefined when neither defines one, or the template is unknown', () => {
    expect(pipelineOf({ pipeline: undefined }, template(undefined))).toBeUndefined();
    expect(pipelineOf({ pipeline: undefined }, undefined)).toBeUndefined();
    expect(pipelineOf({ pipeline: own }, undefined)).toBe(own);
  });
});

describe('expandPipeline', () => {
  it('keeps the reactnext default pipeline in its dependency order, with codegen a placeholder awaiting decompose', () => {
    const instances = expandPipeline(reactnextPipeline(), noOutputs);
    expect(names(instances)).toEqual([
      'market-research', 'founder-analysis', 'business-model', 'mvp-spec', 'architecture', 'decompose', 'codegen', 'review',
    ]);
    expectDependencyOrder(instances);
    const codegen = byName(instances, 'codegen');
    expect(codegen).toMatchObject({ awaiting: 'decompose', dependsOn: ['decompose'] });
    expect(codegen.item).toBeUndefined();
    expect(byName(instances, 'review').dependsOn).toEqual(['codegen']);
    expect(byName(instances, 'business-model').dependsOn).toEqual(['market-research', 'founder-analysis']);
    expect(instances.filter((i) => i.awaiting !== undefined).map((i) => i.name)).toEqual(['codegen']);
  });

  it('orders tasks after their dependencies even when the pipeline lists them out of order', () => {
    const shuffled = [...reactnextPipeline()].reverse();
    const instances = expandPipeline(shuffled, noOutputs);
    expect(instances).toHaveLength(shuffled.length);
    expectDependencyOrder(instances);
    expect(names(instances).at(-1)).toBe('review');
  });

  it('breaks ties by the order the pipeline lists tasks in', () => {
    const instances = expandPipeline([task('c', ['a']), task('b'), task('a')], noOutputs);
    expect(names(instances)).toEqual(['b', 'a', 'c']);
  });

  it('expands a fan-out into one instance per work item, each with the fan-out task\'s own dependencies', () => {
    const instances = expandPipeline(reactnextPipeline(), decomposed(3));
    expect(names(instances)).toEqual([
      'market-research', 'founder-analysis', 'business-model', 'mvp-spec', 'architecture', 'decompose',
      'codegen-0', 'codegen-1', 'codegen-2', 'review',
    ]);
    for (const [index, name] of ['codegen-0', 'codegen-1', 'codegen-2'].entries()) {
      const instance = byName(instances, name);
      expect(instance.item).toBe(index);
      expect(instance.dependsOn).toEqual(['decompose']);
      expect(instance.awaiting).toBeUndefined();
      expect(instance.task.name).toBe('codegen');
    }
    expect(instances.some((i) => i.name === 'codegen')).toBe(false);
  });

  it('makes a task that depends on the fan-out depend on every one of its instances', () => {
    const instances = expandPipeline(reactnextPipeline(), decomposed(3));
    expect(byName(instances, 'review').dependsOn).toEqual(['codegen-0', 'codegen-1', 'codegen-2']);
    expectDependencyOrder(instances);
  });

  it('gives each instance the dependencies of a fan-out that depends on more than its source', () => {
    const tasks = [
      task('plan'), task('split', ['plan'], { type: 'decompose' }),
      task('build', ['plan', 'split'], { type: 'codegen', forEach: 'split' }),
      task('ship', ['build', 'plan']),
    ];
    const instances = expandPipeline(tasks, (t) => (t === 'split' ? 2 : undefined));
    expect(byName(instances, 'build-0').dependsOn).toEqual(['plan', 'split']);
    expect(byName(instances, 'build-1').dependsOn).toEqual(['plan', 'split']);
    expect(byName(instances, 'ship').dependsOn).toEqual(['build-0', 'build-1', 'plan']);
  });

  it('expands zero work items to no instances, leaving dependents depending on nothing from it', () => {
    const instances = expandPipeline(reactnextPipeline(), decomposed(0));
    expect(instances.filter((i) => i.task.name === 'codegen')).toEqual([]);
    expect(byName(instances, 'review').dependsOn).toEqual([]);
    expect(names(instances)).toHaveLength(7);
  });

  it(`caps a fan-out at MAX_FAN_OUT (${MAX_FAN_OUT}) instances`, () => {
    const instances = expandPipeline(reactnextPipeline(), decomposed(MAX_FAN_OUT + 10));
    const codegen = instances.filter((i) => i.task.name === 'codegen');
    expect(codegen).toHaveLength(MAX_FAN_OUT);
    expect(codegen.at(-1)).toMatchObject({ name: `codegen-${MAX_FAN_OUT - 1}`, item: MAX_FAN_OUT - 1 });
    expect(byName(instances, 'review').dependsOn).toHaveLength(MAX_FAN_OUT);
  });

  it('expands exactly MAX_FAN_OUT items in full', () => {
    const instances = expandPipeline(reactnextPipeline(), decomposed(MAX_FAN_OUT));
    expect(instances.filter((i) => i.task.name === 'codegen')).toHaveLength(MAX_FAN_OUT);
  });
});

describe('taskDefinition', () => {
  const tasks = [
    ...reactnextPipeline(),
    task('x-2', ['mvp-spec']),
    task('plain'),
  ];

  it('finds a task by its exact name', () => {
    expect(taskDefinition(tasks, 'decompose')?.name).toBe('decompose');
    expect(taskDefinition(tasks, 'codegen')?.name).toBe('codegen');
  });

  it('resolves a fan-out instance to its forEach task', () => {
    const def = taskDefinition(tasks, 'codegen-2');
    expect(def?.name).toBe('codegen');
    expect(def?.forEach).toBe('decompose');
    expect(taskDefinition(tasks, 'codegen-15')?.name).toBe('codegen');
  });

  it('finds a task literally named like an instance, without forEach, by its exact name', () => {
    const def = taskDefinition(tasks, 'x-2');
    expect(def?.name).toBe('x-2');
    expect(def?.dependsOn).toEqual(['mvp-spec']);
  });

  it('does not resolve an indexed name to a task without forEach', () => {
    expect(taskDefinition(tasks, 'plain-0')).toBeUndefined();
    expect(taskDefinition(tasks, 'x-2-1')).toBeUndefined();
  });

  it('is undefined for an unknown name', () => {
    expect(taskDefinition(tasks, 'nope')).toBeUndefined();
    expect(taskDefinition(tasks, 'nope-3')).toBeUndefined();
    expect(taskDefinition(tasks, 'codegen-')).toBeUndefined();
  });
});
