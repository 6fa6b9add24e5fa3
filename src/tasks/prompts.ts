import type { TaskType } from '../api/index.ts';
import { renderSandboxed } from '../templates/render.ts';
import { fitContext } from './context.ts';
import type { TaskInput } from './input.ts';
import { fence } from './markdown.ts';

/*
 * A prompt is two parts. The instructions are a Nunjucks template: the task type's
 * built-in one below, or the pipeline's `prompt`, which comes from users and so renders
 * in the template sandbox. The facts (the startup, the work item, the dependencies'
 * outputs) are appended by code after either, so a custom prompt cannot drop them, and
 * since they are never rendered, `{{ 7*7 }}` in an idea stays text.
 */

/** Each dependency's output is cut to this many characters, so a prompt stays bounded. */
const MAX_DEPENDENCY_CHARS = 12_000;
/** Tokens of shared context a prompt carries at most; the highest-priority insights are kept. */
export const CONTEXT_TOKEN_BUDGET = 2_500;

const ROLES: Record<TaskType, string> = {
  research: 'the market researcher',
  analysis: 'the business analyst',
  spec: 'the product manager',
  architecture: 'the software architect',
  decompose: 'the engineering lead',
  codegen: 'a software engineer',
  review: 'the code reviewer',
};

/** The built-in instructions of each task type, Nunjucks over the prompt context. */
export const BUILT_IN_PROMPTS: Record<TaskType, string> = {
  research: `Research the market of {{ startup.displayName }}{% if startup.industry %}, a startup in {{ startup.industry }}{% if startup.category %} ({{ startup.category }}){% endif %}{% endif %}.
Estimate its market size (TAM, SAM and SOM, each with the reasoning behind the figure), name the trends that matter to it, analyse at least three competitors or substitutes (their positioning, strengths and weaknesses), identify the customer segments to target first and what they need, and list the market risks.
Cite every source with its URL. Be specific to this idea; leave out generic startup advice.`,

  // Without dependencies an analysis judges the founder and the idea (founder-analysis);
  // with them it turns their findings into a business model (business-model).
  analysis: `{% if dependencies | length %}Turn the findings of {% for d in dependencies %}{{ d.name }}{% if not loop.last %}, {% endif %}{% endfor %} into a business model for {{ startup.displayName }}: who pays and for what, pricing, revenue streams, acquisition channels, unit economics and the founder's unfair advantages.
Call out where the findings disagree or leave gaps.{% else %}Analyse the founder of {{ startup.displayName }}, {{ startup.founder.name }}, against the idea: founder-market fit, the skills and experience that help, the gaps to fill (co-founders, hires, advisors), and whether the founder's goals match what this startup demands.{% endif %}
Give concrete insights with their evidence, strengths, gaps and risks, and recommendations someone can act on this month.`,

  spec: `Write the product specification of the MVP of {{ startup.displayName }}, building on the tasks it depends on.
State the problem and the solution, describe two or three personas and their goals, and list the features with MoSCoW priorities and testable acceptance criteria. Keep the MVP small: a handful of must-haves that deliver the core value, and say what is deliberately left out. Give success metrics with targets.`,

  architecture: `Design the architecture of the MVP of {{ startup.displayName }} on its scaffold, the {{ startup.template.name }} template ({{ startup.template.framework }}), from the specification it depends on.
Name the components and their technologies, the data model (entities and fields), the API endpoints, the pages or screens and their routes, and the decisions worth recording with their rationale. Fit the scaffold instead of replacing it.`,

  decompose: `Break the MVP of {{ startup.displayName }} down into work items from the architecture it depends on: at least 3 and at most 16, each a coherent slice (a page with its API, say) that one engineer can build and test independently of the others.
Give each a short lowercase id (wi-1, wi-2, ...), a title, a precise description, the files it creates or changes (paths relative to the project root, following the {{ startup.template.framework }} scaffold's layout) and testable acceptance criteria. Two items should not write the same file.`,

  codegen: `{% if workItem %}Implement work item {{ workItem.id }}, "{{ workItem.title }}", of {{ startup.displayName }}{% else %}Implement the MVP of {{ startup.displayName }}{% endif %} in the {{ startup.template.framework }} scaffold of the {{ startup.template.name }} template.
Write complete, working files (no placeholders or elided parts), with paths relative to the project root; keep to the files the work item lists unless another is needed, and say why in the notes.{% if workItem %} Set workItem to "{{ workItem.id }}".{% endif %}`,

  review: `Review the code written for {{ startup.displayName }} by the tasks this one depends on.
Give one entry per work item with a verdict and comments: does the code do what the item asks, is it correct, secure and consistent with the scaffold? List the issues with their severity and file. Request changes when any item needs them or any issue is a blocker.`,
};

function systemMessage(input: TaskInput): string {
  const { type } = input.task;
  return [
    // No task name here: fan-out items then share the system prompt, a prefix providers' prompt caches reuse.
    `You are ${ROLES[type]} on the team building the startup ${JSON.stringify(input.startup.displayName)} at Startup Factory.`,
    `Answer with one JSON object that matches the "${type}" output schema you are given, and nothing else.`,
    'Be specific to this startup. Where you are unsure, say so in the text instead of inventing facts.',
  ].join('\n');
}

function startupFacts({ startup }: TaskInput): string {
  const { founder } = startup;
  const line = (label: string, value: string) => `- ${label}: ${value.trim() || '(not given)'}`;
  return [
    '# The startup',
    line('Name', startup.displayName),
    line('Industry', startup.industry),
    line('Category', startup.category),
    line('Idea', startup.idea),
    line('Founder', founder.name),
    line('Founder\'s skills', founder.skills.join(', ')),
    line('Founder\'s experience', founder.experience),
    line('Founder\'s goals', founder.goals),
    line('Scaffold', `${startup.template.name} (${startup.template.framework})`),
  ].join('\n');
}

function workItemFacts({ task: { workItem } }: TaskInput): string[] {
  if (workItem === undefined) return [];
  return [[
    `# The work item: ${workItem.id}, ${workItem.title}`,
    workItem.description,
    `Files:\n${workItem.files.map((f) => `- ${f}`).join('\n')}`,
    `Acceptance criteria:\n${workItem.acceptanceCriteria.map((c) => `- ${c}`).join('\n')}`,
  ].join('\n\n')];
}

function dependencyOutputs({ dependencies }: TaskInput): string[] {
  if (dependencies.length === 0) return [];
  return [
    '# Outputs of the tasks this one depends on',
    ...dependencies.map((d) => {
      const json = JSON.stringify(d.output) ?? 'null';
      const body = json.length <= MAX_DEPENDENCY_CHARS
        ? json
        : `${json.slice(0, MAX_DEPENDENCY_CHARS)}... (cut at ${MAX_DEPENDENCY_CHARS} of ${json.length} characters)`;
      return `## ${d.name} (${d.type})\n\n${fence(body, 'json')}`;
    }),
  ];
}

/** A task's prompt in three parts, which each wire format places its own way (see runner/models.ts). */
export type Prompt = {
  /** Who the model is and how to answer. */
  system: string;
  /** The shared context, fitted to its budget; '' when the task builds on nothing beyond its dependencies. */
  context: string;
  /** The task: instructions, the startup's facts, the work item, the dependencies' outputs. */
  user: string;
};

function sharedContext(input: TaskInput): string {
  const fitted = fitContext(input.context, CONTEXT_TOKEN_BUDGET);
  if (fitted.text === '') return '';
  const omitted = fitted.dropped.length > 0 ? `\n\n(Left out for length: the insights of ${fitted.dropped.join(', ')}.)` : '';
  return `# What the team has found so far\n\nInsights of the earlier tasks of this pipeline, by other models too. Build on them; where you disagree, say why.\n\n${fitted.text}${omitted}`;
}

/**
 * The messages of a task attempt. Throws an Error with a one-line message when the
 * task's custom prompt is refused by the sandbox or does not render.
 */
export function renderPrompt(input: TaskInput): Prompt {
  const custom = input.task.prompt;
  const context = {
    startup: input.startup,
    task: input.task,
    workItem: input.task.workItem ?? null,
    dependencies: input.dependencies,
    deps: Object.fromEntries(input.dependencies.map((d) => [d.name, d.output])),
    context: input.context,
  };
  let instructions: string;
  try {
    instructions = renderSandboxed(custom ?? BUILT_IN_PROMPTS[input.task.type], context);
  } catch (err) {
    const which = custom === undefined ? 'built-in prompt' : 'prompt';
    throw new Error(`${which} of task ${input.task.name}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return {
    system: systemMessage(input),
    context: sharedContext(input),
    user: [instructions.trim(), startupFacts(input), `# This task\n- Name: ${input.task.name}`, ...workItemFacts(input), ...dependencyOutputs(input)].join('\n\n'),
  };
}
