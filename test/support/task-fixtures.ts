/* Startups and task inputs shared by the tests of the task types and the offline provider. */
import type { TaskType } from '../../src/api/index.ts';
import { offlineOutput } from '../../src/providers/offline.ts';
import type { TaskInput, WorkItem } from '../../src/tasks/input.ts';
import type { TaskOutput } from '../../src/tasks/schemas.ts';

type Startup = TaskInput['startup'];

export const ACME: Startup = {
  name: 'acme-pay',
  displayName: 'Acme Pay',
  industry: 'fintech',
  category: 'payments',
  idea: 'Instant payouts for freelancers: invoices get paid the day they are approved, with tax estimates built in.',
  founder: { name: 'Ada Lovelace', skills: ['full-stack development', 'sales'], experience: 'Ten years building payment systems.', goals: 'Profitable within two years.' },
  template: { name: 'reactnext', framework: 'nextjs' },
};

/** Every field holds text that would break or inject code if it were pasted unescaped. */
export const HOSTILE: Startup = {
  name: 'hostile',
  displayName: '<script>alert(1)</script> {{ 7*7 }}',
  industry: '"quotes" \'single\' `ticks`',
  category: '{{ 7*7 }}',
  idea: 'Costs $100 ${oops} \\ back\\slash </script> {% raw %} | pipes | and\nnewlines """triple""" \u2028 end.',
  founder: { name: 'O\'Brien "the" $founder', skills: [], experience: '', goals: '' },
  template: { name: 'fluttermobile', framework: 'flutter' },
};

export const withFramework = (startup: Startup, name: string, framework: string): Startup =>
  ({ ...startup, template: { name, framework } });

export function inputFor(
  startup: Startup,
  task: { name: string; type: TaskType; prompt?: string; workItem?: WorkItem },
  dependencies: TaskInput['dependencies'] = [],
  context: TaskInput['context'] = [],
): TaskInput {
  return { startup, task, dependencies, context };
}

export type Step = { input: TaskInput; output: TaskOutput };

/** The default pipeline run with the offline provider: every task's input and output, in order. */
export function offlinePipeline(startup: Startup): Step[] {
  const steps: Step[] = [];
  const run = (name: string, type: TaskType, dependsOn: string[], workItem?: WorkItem) => {
    const dependencies = dependsOn.map((dep) => {
      const step = steps.find((s) => s.input.task.name === dep);
      if (!step) throw new Error(`no step ${dep}`);
      return { name: dep, type: step.input.task.type, output: step.output };
    });
    const input = inputFor(startup, workItem ? { name, type, workItem } : { name, type }, dependencies);
    const step = { input, output: offlineOutput(input) };
    steps.push(step);
    return step;
  };
  run('market-research', 'research', []);
  run('founder-analysis', 'analysis', []);
  run('business-model', 'analysis', ['market-research', 'founder-analysis']);
  run('mvp-spec', 'spec', ['business-model']);
  run('architecture', 'architecture', ['mvp-spec']);
  const plan = run('decompose', 'decompose', ['architecture']).output as TaskOutput<'decompose'>;
  const codegens = plan.workItems.map((item) => run(`codegen-${item.id}`, 'codegen', ['decompose'], item).input.task.name);
  run('review', 'review', codegens);
  return steps;
}
