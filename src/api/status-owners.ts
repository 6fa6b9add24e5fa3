import { ConditionType } from './conditions.ts';

/**
 * Which part of an object's status one writer owns: top-level fields, and conditions by
 * type. Several writers share a status (a Startup's provisioning, pipeline and budget
 * ledger), each through server-side apply under its own field manager, so each sends
 * only what it owns and the API server merges: nobody overwrites another's fields, and
 * no write needs a resourceVersion or a retry on conflict.
 */
export type StatusOwnership = {
  fieldManager: string;
  fields: readonly string[];
  conditionTypes: readonly string[];
};

/**
 * The Startup controller: admission, provisioning, the scaffold, and the summary every
 * tool reads (`phase`, `observedGeneration`, kstatus `Ready`/`Reconciling`/`Stalled`),
 * which it derives from its own observation and the other writers' conditions.
 */
export const STARTUP_PROVISIONING: StatusOwnership = {
  fieldManager: 'startup-factory-provisioning',
  fields: ['phase', 'observedGeneration', 'namespace', 'allocation', 'startedAt'],
  conditionTypes: [
    ConditionType.Admitted, ConditionType.Provisioned, ConditionType.TemplateRendered,
    ConditionType.Ready, ConditionType.Reconciling, ConditionType.Stalled,
  ],
};

/** The pipeline scheduler: each task's progress and the pipeline's verdict. */
export const STARTUP_PIPELINE: StatusOwnership = {
  fieldManager: 'startup-factory-pipeline',
  fields: ['tasks', 'progress', 'completedAt'],
  conditionTypes: [ConditionType.PipelineSucceeded],
};

/** The gateway's budget ledger: usage against the quota, and whether a budget ran out. */
export const STARTUP_LEDGER: StatusOwnership = {
  fieldManager: 'startup-factory-ledger',
  fields: ['usage'],
  conditionTypes: [ConditionType.BudgetExceeded],
};

export const TEMPLATE_STATUS: StatusOwnership = {
  fieldManager: 'startup-factory-templates',
  fields: ['observedGeneration', 'fileCount'],
  conditionTypes: [ConditionType.Ready, ConditionType.Stalled],
};

/** Readiness (Ready, and Stalled while it is not): `stats` belong to the learning engine, a writer of their own. */
export const PROVIDER_STATUS: StatusOwnership = {
  fieldManager: 'startup-factory-providers',
  fields: ['observedGeneration'],
  conditionTypes: [ConditionType.Ready, ConditionType.Stalled],
};

/**
 * The learning engine: what was measured per task type. Its own field manager, so the
 * provider controller's readiness writes and these never remove each other's fields.
 */
export const PROVIDER_STATS: StatusOwnership = {
  fieldManager: 'startup-factory-routing',
  fields: ['stats'],
  conditionTypes: [],
};
