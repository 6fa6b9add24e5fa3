import type { Condition, StartupPhase, StartupStatus } from '../api/index.ts';
import { ConditionType, PipelineReason, SUSPENDED_MESSAGE, getCondition, pipelineVerdict, setCondition, toKubeTime, type PipelineVerdict } from '../api/conditions.ts';
import { canonical } from '../runtime/status.ts';

type Allocation = NonNullable<StartupStatus['allocation']>;

/** What one reconcile found, in the order a Startup moves through it. */
export type Observation =
  | { kind: 'Queued'; reason: string; message: string }
  /** Not admitted, and waiting will not help (more than the factory's whole capacity): only a smaller spec or a larger factory does. */
  | { kind: 'Refused'; reason: string; message: string }
  /** The spec fails a check the API server cannot make (e.g. a cycle in the pipeline): only an edit helps. */
  | { kind: 'Invalid'; reason: string; message: string }
  /** Admitted, but the allocation cannot be made (e.g. `NodePortsExhausted`): only a change elsewhere helps. */
  | { kind: 'Stalled'; reason: string; message: string; allocation: Allocation }
  /** Admitted and allocated; the objects are not all applied yet (or an apply just failed). */
  | { kind: 'Provisioning'; reason: string; message: string; allocation: Allocation }
  /** The objects are in place; `scaffold` says whether the template rendered into its ConfigMaps. */
  | { kind: 'Provisioned'; allocation: Allocation; scaffold: ScaffoldOutcome };

/**
 * `waiting`: something may appear that fixes it (the template being applied), so the
 * Startup is still reconciling; otherwise the user must change the template or values.
 */
export type ScaffoldOutcome = { rendered: true; message: string } | { rendered: false; reason: string; message: string; waiting: boolean };

/**
 * The status a Startup should have given one observation of provisioning and the
 * pipeline's verdict (its `PipelineSucceeded` condition, in `current`). This writer owns
 * the summary: `phase`, and the kstatus conditions `Ready` (provisioned, rendered and the
 * pipeline succeeded), `Reconciling` (work remains that will happen by itself) and
 * `Stalled` (only a change elsewhere helps), so tools that read kstatus need read nothing
 * else. Returns the same object when nothing changed, so the caller can skip the write.
 */
export function nextStatus(
  current: StartupStatus | undefined,
  startup: { generation: number; suspend: boolean },
  observation: Observation,
  now: Date,
): StartupStatus {
  const observedGeneration = startup.generation;
  const c = (type: string, status: Condition['status'], reason: string, message: string) => ({ type, status, reason, message, observedGeneration });
  const admitted = observation.kind !== 'Queued' && observation.kind !== 'Refused' && observation.kind !== 'Invalid';
  const pipeline = pipelineVerdict(current?.conditions, observedGeneration);
  const updates = (() => {
    switch (observation.kind) {
      case 'Invalid':
        return [
          c(ConditionType.Ready, 'False', observation.reason, observation.message),
          c(ConditionType.Reconciling, 'False', 'Stalled', observation.message),
          c(ConditionType.Stalled, 'True', observation.reason, observation.message),
        ];
      case 'Queued':
        return [
          c(ConditionType.Admitted, 'False', observation.reason, observation.message),
          c(ConditionType.Provisioned, 'False', 'Queued', 'waiting for admission'),
          c(ConditionType.Ready, 'False', 'Queued', observation.message),
          c(ConditionType.Reconciling, 'True', 'Queued', observation.message),
          c(ConditionType.Stalled, 'False', 'NotStalled', 'waiting its turn'),
        ];
      case 'Refused':
        return [
          c(ConditionType.Admitted, 'False', observation.reason, observation.message),
          c(ConditionType.Provisioned, 'False', observation.reason, 'not admitted'),
          c(ConditionType.Ready, 'False', observation.reason, observation.message),
          c(ConditionType.Reconciling, 'False', 'Stalled', observation.message),
          c(ConditionType.Stalled, 'True', observation.reason, observation.message),
        ];
      case 'Stalled':
        return [
          c(ConditionType.Admitted, 'True', 'Admitted', 'admitted'),
          c(ConditionType.Provisioned, 'False', observation.reason, observation.message),
          c(ConditionType.Ready, 'False', observation.reason, observation.message),
          c(ConditionType.Reconciling, 'False', 'Stalled', observation.message),
          c(ConditionType.Stalled, 'True', observation.reason, observation.message),
        ];
      case 'Provisioning':
        return [
          c(ConditionType.Admitted, 'True', 'Admitted', 'admitted'),
          c(ConditionType.Provisioned, 'False', observation.reason, observation.message),
          c(ConditionType.Ready, 'False', observation.reason, observation.message),
          c(ConditionType.Reconciling, 'True', observation.reason, observation.message),
          c(ConditionType.Stalled, 'False', 'NotStalled', 'making progress'),
        ];
      case 'Provisioned': {
        const provisioned = c(ConditionType.Provisioned, 'True', 'Provisioned', 'namespace, quota, network policy and services are in place');
        const admittedTrue = c(ConditionType.Admitted, 'True', 'Admitted', 'admitted');
        const scaffold = observation.scaffold;
        if (!scaffold.rendered) {
          return [
            admittedTrue,
            provisioned,
            c(ConditionType.TemplateRendered, 'False', scaffold.reason, scaffold.message),
            c(ConditionType.Ready, 'False', scaffold.reason, scaffold.message),
            scaffold.waiting
              ? c(ConditionType.Reconciling, 'True', scaffold.reason, scaffold.message)
              : c(ConditionType.Reconciling, 'False', 'Stalled', scaffold.message),
            scaffold.waiting
              ? c(ConditionType.Stalled, 'False', 'NotStalled', 'waiting for the template')
              : c(ConditionType.Stalled, 'True', scaffold.reason, scaffold.message),
          ];
        }
        return [admittedTrue, provisioned, c(ConditionType.TemplateRendered, 'True', 'Rendered', scaffold.message), ...summary(pipeline, startup.suspend, c)];
      }
    }
  })();
  const conditions = updates.reduce<Condition[]>((list, update) => setCondition(list, update, now), current?.conditions ?? []);

  const next: StartupStatus = { ...current, phase: phase(current?.phase, startup.suspend, observation, pipeline), observedGeneration, conditions };
  if (admitted) {
    next.namespace = observation.allocation.namespace;
    next.allocation = observation.allocation;
    next.startedAt = current?.startedAt ?? toKubeTime(now);
  }
  return sameStatus(current, next) ? current! : next;
}

type ConditionMaker = (type: string, status: Condition['status'], reason: string, message: string) => Omit<Condition, 'lastTransitionTime'>;

/** Ready, Reconciling and Stalled of a provisioned Startup, from the pipeline's verdict. */
function summary(pipeline: PipelineVerdict, suspend: boolean, c: ConditionMaker): Omit<Condition, 'lastTransitionTime'>[] {
  switch (pipeline.kind) {
    case 'pending':
      // What the pipeline will say of a suspended Startup, said at once: its verdict then
      // changes nothing here, where waiting for it would cost a status write more.
      if (suspend) {
        return [
          c(ConditionType.Ready, 'False', PipelineReason.Suspended, SUSPENDED_MESSAGE),
          c(ConditionType.Reconciling, 'True', PipelineReason.Suspended, SUSPENDED_MESSAGE),
          c(ConditionType.Stalled, 'False', 'NotStalled', 'making progress'),
        ];
      }
      return [
        c(ConditionType.Ready, 'False', 'PipelinePending', 'provisioned; the pipeline has not started on this generation yet'),
        c(ConditionType.Reconciling, 'True', 'PipelinePending', 'waiting for the pipeline'),
        c(ConditionType.Stalled, 'False', 'NotStalled', 'making progress'),
      ];
    case 'succeeded':
      return [
        c(ConditionType.Ready, 'True', pipeline.condition.reason, pipeline.condition.message),
        c(ConditionType.Reconciling, 'False', 'ReconcileSucceeded', 'up to date'),
        c(ConditionType.Stalled, 'False', 'NotStalled', 'up to date'),
      ];
    case 'failed':
    case 'stalled':
      return [
        c(ConditionType.Ready, 'False', pipeline.condition.reason, pipeline.condition.message),
        c(ConditionType.Reconciling, 'False', 'Stalled', pipeline.condition.message),
        c(ConditionType.Stalled, 'True', pipeline.condition.reason, pipeline.condition.message),
      ];
    case 'progressing':
      return [
        c(ConditionType.Ready, 'False', pipeline.condition.reason, pipeline.condition.message),
        c(ConditionType.Reconciling, 'True', pipeline.condition.reason, pipeline.condition.message),
        c(ConditionType.Stalled, 'False', 'NotStalled', 'making progress'),
      ];
  }
}

function phase(current: StartupPhase | undefined, suspend: boolean, observation: Observation, pipeline: PipelineVerdict): StartupPhase {
  switch (observation.kind) {
    // The phase says where it stands in its life, Stalled what helps: never admitted, it is still in the queue.
    case 'Queued':
    case 'Refused': return 'Queued';
    case 'Invalid': return current ?? 'Queued';
    case 'Stalled':
    case 'Provisioning': return 'Provisioning';
    case 'Provisioned':
      if (!observation.scaffold.rendered) return 'Provisioning';
      if (pipeline.kind === 'succeeded') return 'Succeeded';
      if (pipeline.kind === 'failed') return 'Failed';
      return suspend ? 'Suspended' : 'Running';
  }
}

function sameStatus(a: StartupStatus | undefined, b: StartupStatus): boolean {
  return a !== undefined && canonical(a) === canonical(b);
}


/** A condition that changed status between two statuses: what Events are emitted for. */
export type Transition = { type: string; status: Condition['status']; reason: string; message: string };

export function conditionTransitions(before: StartupStatus | undefined, after: StartupStatus): Transition[] {
  return (after.conditions ?? [])
    .filter((c) => getCondition(before?.conditions, c.type)?.status !== c.status)
    .map(({ type, status, reason, message }) => ({ type, status, reason, message }));
}
