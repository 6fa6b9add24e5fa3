import { describe, expect, it } from 'vitest';
import { SUSPENDED_MESSAGE, getCondition } from '../api/conditions.ts';
import { conditionTransitions, nextStatus, type Observation } from './startup-status.ts';

const t0 = new Date('2026-11-25T10:00:00.000Z');
const t1 = new Date('2026-11-25T10:05:00.000Z');
const allocation = { namespace: 'startup-a', services: [{ name: 'web', port: 3000, nodePort: 30001 }], nodePorts: [30001], databaseName: 'a' };
const spec = { generation: 1, suspend: false };
const queued: Observation = { kind: 'Queued', reason: 'ActiveLimitReached', message: 'queued at position 1: 5 of 5 startups active' };
const provisioned: Observation = { kind: 'Provisioned', allocation, scaffold: { rendered: true, message: '12 files' } };
const pipeline = (status: 'True' | 'False', reason: string, generation = 1) =>
  ({ type: 'PipelineSucceeded', status, reason, message: `pipeline ${reason}`, observedGeneration: generation, lastTransitionTime: '2026-11-25T10:00:00Z' });

describe('nextStatus', () => {
  it('queues with Admitted=False and the reason, and no allocation', () => {
    const status = nextStatus(undefined, spec, queued, t0);
    expect(status.phase).toBe('Queued');
    expect(getCondition(status.conditions, 'Admitted')).toMatchObject({ status: 'False', reason: 'ActiveLimitReached', observedGeneration: 1 });
    expect(getCondition(status.conditions, 'Ready')?.status).toBe('False');
    expect(getCondition(status.conditions, 'Reconciling')?.status).toBe('True');
    expect(status.allocation).toBeUndefined();
    expect(status.observedGeneration).toBe(1);
  });

  it('stalls a Startup that can never fit, still Queued and unallocated, and lets it through once it fits', () => {
    const refused: Observation = { kind: 'Refused', reason: 'ExceedsCapacity', message: "asks memory 1e400, more than the factory's whole capacity of 16Gi" };
    const status = nextStatus(nextStatus(undefined, spec, queued, t0), spec, refused, t1);
    expect(status.phase).toBe('Queued');
    for (const type of ['Admitted', 'Ready', 'Stalled']) {
      expect(getCondition(status.conditions, type), type).toMatchObject({ reason: 'ExceedsCapacity', message: refused.message, observedGeneration: 1 });
    }
    expect(getCondition(status.conditions, 'Stalled')?.status).toBe('True');
    expect(getCondition(status.conditions, 'Reconciling')).toMatchObject({ status: 'False', reason: 'Stalled' });
    expect(getCondition(status.conditions, 'Admitted')?.status).toBe('False');
    expect(status.allocation).toBeUndefined();
    expect(nextStatus(status, spec, refused, t1)).toBe(status);
    const admitted = nextStatus(status, { ...spec, generation: 2 }, { kind: 'Provisioning', reason: 'Provisioning', message: 'applying', allocation }, t1);
    expect(admitted.phase).toBe('Provisioning');
    expect(getCondition(admitted.conditions, 'Stalled')).toMatchObject({ status: 'False', reason: 'NotStalled' });
  });

  it('goes Provisioning, then Running while the pipeline works, then Succeeded and Ready', () => {
    const provisioning = nextStatus(undefined, spec, { kind: 'Provisioning', reason: 'Provisioning', message: 'applying' , allocation }, t0);
    expect(provisioning).toMatchObject({ phase: 'Provisioning', namespace: 'startup-a', allocation, startedAt: '2026-11-25T10:00:00Z' });
    const running = nextStatus(provisioning, spec, provisioned, t1);
    expect(running.phase).toBe('Running');
    expect(running.startedAt).toBe('2026-11-25T10:00:00Z');
    for (const type of ['Admitted', 'Provisioned', 'TemplateRendered', 'Reconciling']) expect(getCondition(running.conditions, type)?.status).toBe('True');
    expect(getCondition(running.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'PipelinePending' });
    const working = nextStatus({ ...running, conditions: [...running.conditions!, pipeline('False', 'Running')] }, spec, provisioned, t1);
    expect(working.phase).toBe('Running');
    expect(getCondition(working.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'Running' });
    const done = nextStatus({ ...running, conditions: [...running.conditions!, pipeline('True', 'Succeeded')] }, spec, provisioned, t1);
    expect(done.phase).toBe('Succeeded');
    expect(getCondition(done.conditions, 'Ready')).toMatchObject({ status: 'True', reason: 'Succeeded' });
    for (const type of ['Reconciling', 'Stalled']) expect(getCondition(done.conditions, type)?.status).toBe('False');
  });

  it('fails with the pipeline, stalls when no provider can serve, and ignores a verdict for an older generation', () => {
    const failed = nextStatus({ conditions: [pipeline('False', 'TaskFailed')] }, spec, provisioned, t0);
    expect(failed.phase).toBe('Failed');
    expect(getCondition(failed.conditions, 'Stalled')).toMatchObject({ status: 'True', reason: 'TaskFailed', message: 'pipeline TaskFailed' });
    const stalled = nextStatus({ conditions: [pipeline('False', 'NoReadyProvider')] }, spec, provisioned, t0);
    expect(stalled.phase).toBe('Running');
    expect(getCondition(stalled.conditions, 'Stalled')?.status).toBe('True');
    const stale = nextStatus({ conditions: [pipeline('True', 'Succeeded', 1)] }, { ...spec, generation: 2 }, provisioned, t0);
    expect(stale.phase).toBe('Running');
    expect(getCondition(stale.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'PipelinePending' });
  });

  it('says a suspended Startup is suspended before the pipeline does, so the pipeline saying it changes nothing', () => {
    const suspended = { ...spec, suspend: true };
    const first = nextStatus(undefined, suspended, provisioned, t0);
    expect(first.phase).toBe('Suspended');
    expect(getCondition(first.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'Suspended', message: SUSPENDED_MESSAGE });
    const verdict = { type: 'PipelineSucceeded', status: 'False' as const, reason: 'Suspended', message: SUSPENDED_MESSAGE, observedGeneration: 1, lastTransitionTime: '2026-11-25T10:00:00Z' };
    const withVerdict = { ...first, conditions: [...first.conditions!, verdict] };
    expect(nextStatus(withVerdict, suspended, provisioned, t1)).toBe(withVerdict);
  });

  it('moves lastTransitionTime only on flips and returns the same object when nothing changed', () => {
    const first = nextStatus(undefined, spec, provisioned, t0);
    const again = nextStatus(first, spec, provisioned, t1);
    expect(again).toBe(first);
    const edited = nextStatus(first, { ...spec, generation: 2 }, provisioned, t1);
    expect(edited).not.toBe(first);
    expect(getCondition(edited.conditions, 'Ready')?.lastTransitionTime).toBe('2026-11-25T10:00:00Z');
    expect(getCondition(edited.conditions, 'Ready')?.observedGeneration).toBe(2);
  });

  it('ignores key order when comparing with what the API server returned', () => {
    const first = nextStatus(undefined, spec, provisioned, t0);
    const reordered = Object.fromEntries(Object.entries(first).reverse());
    const fromServer = { ...reordered, allocation: { databaseName: 'a', nodePorts: [30001], services: [{ nodePort: 30001, port: 3000, name: 'web' }], namespace: 'startup-a' } };
    expect(nextStatus(fromServer, spec, provisioned, t1)).toBe(fromServer);
  });

  it('stalls on an exhausted node-port pool', () => {
    const status = nextStatus(undefined, spec, { kind: 'Stalled', reason: 'NodePortsExhausted', message: 'needs 3 node ports, 1 free', allocation }, t0);
    expect(getCondition(status.conditions, 'Provisioned')).toMatchObject({ status: 'False', reason: 'NodePortsExhausted' });
    expect(getCondition(status.conditions, 'Stalled')).toMatchObject({ status: 'True', reason: 'NodePortsExhausted' });
    expect(status.phase).toBe('Provisioning');
  });

  it('waits for a missing template, and stalls on values the template refuses', () => {
    const missing = nextStatus(undefined, spec, { kind: 'Provisioned', allocation, scaffold: { rendered: false, reason: 'TemplateNotFound', message: 'no such template', waiting: true } }, t0);
    expect(missing.phase).toBe('Provisioning');
    expect(getCondition(missing.conditions, 'TemplateRendered')).toMatchObject({ status: 'False', reason: 'TemplateNotFound' });
    expect(getCondition(missing.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'TemplateNotFound' });
    expect(getCondition(missing.conditions, 'Reconciling')?.status).toBe('True');
    expect(getCondition(missing.conditions, 'Stalled')?.status).toBe('False');
    const invalid = nextStatus(missing, spec, { kind: 'Provisioned', allocation, scaffold: { rendered: false, reason: 'InvalidValues', message: 'values.plan: must be one of', waiting: false } }, t1);
    expect(getCondition(invalid.conditions, 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidValues' });
    expect(getCondition(invalid.conditions, 'Reconciling')?.status).toBe('False');
    expect(getCondition(invalid.conditions, 'Provisioned')?.status).toBe('True');
  });

  it('shows Suspended until the pipeline is over', () => {
    expect(nextStatus(undefined, { ...spec, suspend: true }, provisioned, t0).phase).toBe('Suspended');
    expect(nextStatus({ conditions: [pipeline('True', 'Succeeded')] }, { ...spec, suspend: true }, provisioned, t0).phase).toBe('Succeeded');
  });

  it('keeps fields other parts of the operator own', () => {
    const tasks = [{ name: 'market-research', type: 'research' as const, phase: 'Running' as const }];
    expect(nextStatus({ tasks }, spec, provisioned, t0).tasks).toEqual(tasks);
  });
});

describe('conditionTransitions', () => {
  it('lists the conditions whose status flipped', () => {
    const before = nextStatus(undefined, spec, queued, t0);
    const after = nextStatus(before, spec, provisioned, t1);
    expect(conditionTransitions(before, after).map((t) => `${t.type}=${t.status}`).sort())
      .toEqual(['Admitted=True', 'Provisioned=True', 'TemplateRendered=True']);
    expect(conditionTransitions(after, after)).toEqual([]);
  });
});
