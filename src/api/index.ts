/**
 * The API of Startup Factory: zod schemas are the one source of truth, from which come
 * the TypeScript types (here), runtime validation (`schema.parse`) and the CRDs
 * (`./crds.ts`). Spec types are the parsed form, defaults filled and quantities as
 * strings: parse what you read from the API server before trusting its shape.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { z } from 'zod';
import type { conditionSchema } from './common.ts';
import type { pipelineSchema, pipelineTaskSchema } from './pipeline.ts';
import type { aiProviderSpecSchema, aiProviderStatusSchema } from './provider.ts';
import type { startupSpecSchema, startupStatusSchema } from './startup.ts';
import type { startupTemplateSpecSchema, startupTemplateStatusSchema } from './template.ts';

export { API_GROUP, API_VERSION, API_GROUP_VERSION, conditionSchema, conditionsSchema } from './common.ts';
export { TASK_TYPES, MAX_PIPELINE_TASKS, findCycle, pipelineSchema, pipelineTaskSchema } from './pipeline.ts';
export type { TaskType } from './pipeline.ts';
export {
  EXPOSE_TYPES, MAX_STARTUP_NAME_LENGTH, STARTUP_NAMESPACE_PREFIX, STARTUP_PHASES, TASK_PHASES,
  parseStartupSpec, startupNamespace, startupProfile, startupSpecSchema, startupStatusSchema,
} from './startup.ts';
export type { StartupPhase, TaskPhase } from './startup.ts';
export { MAX_FILE_BYTES, MAX_TEMPLATE_FILES, startupTemplateSpecSchema, startupTemplateStatusSchema } from './template.ts';
export { PROVIDER_TYPES, aiProviderSpecSchema, aiProviderStatusSchema } from './provider.ts';
export type { ProviderType } from './provider.ts';
export { isPositiveQuantity, parseQuantity } from './quantity.ts';
export { USD_DECIMAL, formatUsd, parseUsd, tokenCostMicros } from './money.ts';

export type Condition = z.output<typeof conditionSchema>;
export type PipelineTask = z.output<typeof pipelineTaskSchema>;
export type Pipeline = z.output<typeof pipelineSchema>;

export type StartupSpec = z.output<typeof startupSpecSchema>;
export type StartupSpecInput = z.input<typeof startupSpecSchema>;
export type StartupStatus = z.output<typeof startupStatusSchema>;
export type StartupTemplateSpec = z.output<typeof startupTemplateSpecSchema>;
export type StartupTemplateStatus = z.output<typeof startupTemplateStatusSchema>;
export type AIProviderSpec = z.output<typeof aiProviderSpecSchema>;
export type AIProviderStatus = z.output<typeof aiProviderStatusSchema>;

type Resource<Kind extends string, Spec, Status> = {
  apiVersion: 'startupfactory.dev/v1alpha1';
  kind: Kind;
  metadata: V1ObjectMeta & { name: string };
  spec: Spec;
  status?: Status;
};

export type Startup = Resource<'Startup', StartupSpec, StartupStatus>;
export type StartupTemplate = Resource<'StartupTemplate', StartupTemplateSpec, StartupTemplateStatus>;
export type AIProvider = Resource<'AIProvider', AIProviderSpec, AIProviderStatus>;
