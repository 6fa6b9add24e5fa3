import { z } from 'zod';
import type { TaskType } from '../api/index.ts';

/*
 * The output schema of each task type. They are sent to models as JSON Schema for
 * structured output (OpenAI strict json_schema, Anthropic tool input_schema), so they
 * keep to what both accept: plain objects with every field required, arrays, strings
 * and enums. No optional fields, records, unions or size constraints: the bounds live
 * in validate.ts, which also tells the model what to fix.
 */

const text = (description: string) => z.string().describe(description);
const list = <T extends z.ZodType>(item: T, description: string) => z.array(item).describe(description);
const texts = (description: string) => list(z.string(), description);

export const researchSchema = z.object({
  summary: text('Three to five sentences: the market opportunity for this startup and the key finding of the research.'),
  marketSize: z.object({
    tam: text('Total addressable market: the figure or range (with currency and year) and what it counts.'),
    sam: text('Serviceable available market: the share of the TAM this product can reach, with the figure or range.'),
    som: text('Serviceable obtainable market: what the startup can realistically win in 3 to 5 years, with the figure or range.'),
    reasoning: text('How the three figures were derived: sources, assumptions and the arithmetic.'),
  }).describe('Market size estimates, each as text so that ranges and caveats fit.'),
  trends: list(z.object({
    trend: text('The trend, in one line.'),
    impact: text('What it means for this startup: tailwind or headwind, and why.'),
  }), 'Market, technology or regulatory trends that matter to this startup.'),
  competitors: list(z.object({
    name: text('Company or product name (or the kind of alternative, e.g. "spreadsheets").'),
    positioning: text('Who it targets and how it presents itself, in one or two sentences.'),
    strengths: texts('What it does well, one point per entry.'),
    weaknesses: texts('Where it falls short for the customers this startup targets, one point per entry.'),
  }), 'Direct competitors and substitutes, the strongest first.'),
  customerSegments: list(z.object({
    segment: text('Who the customers are, specific enough to find them (role, company size, situation).'),
    needs: texts('Their needs or pains this startup could serve, one per entry.'),
  }), 'Target customer segments, the most promising first.'),
  risks: texts('Market risks: competition, regulation, adoption, timing; one per entry.'),
  sources: list(z.object({
    title: text('Title of the source.'),
    url: text('Absolute http(s) URL of the source.'),
  }), 'Sources consulted for this research.'),
}).describe('Market research for a startup.');

export const analysisSchema = z.object({
  summary: text('Three to five sentences: the conclusion of the analysis.'),
  insights: list(z.object({
    title: text('The insight, in one line.'),
    detail: text('The evidence and reasoning behind it, and what follows from it.'),
  }), 'Key insights, the most important first.'),
  strengths: texts('Strengths and advantages to build on, one per entry.'),
  risks: texts('Gaps, weaknesses and risks to address, one per entry.'),
  recommendations: texts('Concrete next steps, each an action someone can take, the most important first.'),
}).describe('An analysis (of the founder, the business model, ...) for a startup.');

const PRIORITIES = ['must', 'should', 'could'] as const;

export const specSchema = z.object({
  productName: text('Name of the product.'),
  problem: text('The problem the MVP solves and for whom, in a short paragraph.'),
  solution: text('How the MVP solves it, in a short paragraph.'),
  personas: list(z.object({
    name: text('A short label for the persona, e.g. "Freelance designer".'),
    description: text('Who they are and their situation, in one or two sentences.'),
    goals: texts('What they want to achieve with the product, one per entry.'),
  }), 'The users the MVP is for.'),
  features: list(z.object({
    name: text('Short name of the feature.'),
    description: text('What the feature does for the user.'),
    priority: z.enum(PRIORITIES).describe('MoSCoW priority for the MVP: must, should or could.'),
    acceptanceCriteria: texts('Testable conditions that mark the feature done, one per entry.'),
  }), 'Features of the MVP, must-haves first.'),
  nonGoals: texts('What the MVP deliberately leaves out, one per entry.'),
  successMetrics: list(z.object({
    metric: text('What is measured, e.g. "weekly active teams".'),
    target: text('The target value and time frame, e.g. "50 within 3 months of launch".'),
  }), 'How the MVP\'s success is measured.'),
}).describe('The product specification of a startup\'s MVP.');

const COMPONENT_KINDS = ['frontend', 'backend', 'database', 'worker', 'external'] as const;
const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export const architectureSchema = z.object({
  overview: text('The architecture in a short paragraph: the parts and how a request flows through them.'),
  components: list(z.object({
    name: text('Name of the component, e.g. "web frontend".'),
    kind: z.enum(COMPONENT_KINDS).describe('What kind of component it is: frontend, backend, database, worker or external (a third-party service).'),
    technology: text('The technology it is built with, e.g. "Next.js 16 (App Router)".'),
    responsibilities: texts('What the component is responsible for, one per entry.'),
  }), 'The deployable parts and external services.'),
  dataModel: list(z.object({
    entity: text('Name of the entity (table or collection).'),
    fields: list(z.object({
      name: text('Field name.'),
      type: text('Field type, e.g. "uuid primary key", "text", "timestamptz", "reference to user".'),
    }), 'The entity\'s fields.'),
  }), 'The persistent entities.'),
  apiEndpoints: list(z.object({
    method: z.enum(HTTP_METHODS).describe('HTTP method.'),
    path: text('Path of the endpoint, starting with "/", e.g. "/api/invoices/{id}".'),
    description: text('What it does, its input and its output.'),
  }), 'The HTTP API of the backend.'),
  pages: list(z.object({
    route: text('Route of the page or screen, starting with "/", e.g. "/invoices".'),
    purpose: text('What the user does there.'),
  }), 'The pages (or screens) of the frontend.'),
  decisions: list(z.object({
    decision: text('An architecture decision, in one line.'),
    rationale: text('Why, and the alternatives considered.'),
  }), 'Architecture decisions worth recording.'),
}).describe('The architecture of a startup\'s MVP on its scaffold.');

export const workItemSchema = z.object({
  id: text('Short unique lowercase slug, e.g. "wi-1".'),
  title: text('Title of the work item, in a few words.'),
  description: text('What to build, precise enough to implement without further questions.'),
  files: texts('Paths relative to the project root that the item creates or changes, e.g. "frontend/app/invoices/page.tsx".'),
  acceptanceCriteria: texts('Testable conditions that mark the item done, one per entry.'),
}).describe('One unit of work, implemented by one codegen task.');

export const decomposeSchema = z.object({
  workItems: list(workItemSchema, 'Work items that together implement the MVP, each independent enough to be built in parallel.'),
}).describe('The MVP broken down into work items.');

export const codegenSchema = z.object({
  workItem: text('Id of the work item implemented, copied from the input (empty string when there is none).'),
  summary: text('What was implemented, in a few sentences.'),
  files: list(z.object({
    path: text('Path relative to the project root, "/"-separated, e.g. "frontend/app/invoices/page.tsx".'),
    content: text('The complete content of the file.'),
  }), 'Files created or replaced, each with its complete content.'),
  notes: texts('Follow-ups, assumptions and anything the reviewer should know, one per entry.'),
}).describe('Code implementing a work item.');

const VERDICTS = ['approve', 'changes-requested'] as const;
const SEVERITIES = ['blocker', 'major', 'minor'] as const;

export const reviewSchema = z.object({
  verdict: z.enum(VERDICTS).describe('Overall verdict: approve, or changes-requested when any item needs changes.'),
  summary: text('The review\'s conclusion in a few sentences.'),
  items: list(z.object({
    workItem: text('Id of the work item reviewed.'),
    verdict: z.enum(VERDICTS).describe('Verdict on this work item.'),
    comments: texts('Review comments on this work item, one per entry.'),
  }), 'One entry per work item implemented by the code under review.'),
  issues: list(z.object({
    severity: z.enum(SEVERITIES).describe('How serious: blocker, major or minor.'),
    file: text('Path of the file concerned, or an empty string for a general issue.'),
    description: text('The problem and how to fix it.'),
  }), 'Problems found, the most serious first; empty when there are none.'),
}).describe('A code review of the generated code.');

export const TASK_OUTPUT_SCHEMAS = {
  research: researchSchema,
  analysis: analysisSchema,
  spec: specSchema,
  architecture: architectureSchema,
  decompose: decomposeSchema,
  codegen: codegenSchema,
  review: reviewSchema,
} as const satisfies Record<TaskType, z.ZodType>;

export type ResearchOutput = z.output<typeof researchSchema>;
export type AnalysisOutput = z.output<typeof analysisSchema>;
export type SpecOutput = z.output<typeof specSchema>;
export type ArchitectureOutput = z.output<typeof architectureSchema>;
export type DecomposeOutput = z.output<typeof decomposeSchema>;
export type CodegenOutput = z.output<typeof codegenSchema>;
export type ReviewOutput = z.output<typeof reviewSchema>;

export type TaskOutputs = { [T in TaskType]: z.output<(typeof TASK_OUTPUT_SCHEMAS)[T]> };
/** The output of a task of type T; any task's output when T is left out. */
export type TaskOutput<T extends TaskType = TaskType> = TaskOutputs[T];
