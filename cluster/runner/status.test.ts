import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podPhase, podStatus, type ContainerRun, type PodRun, type Terminated } from './status.ts';

const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T00:00:05Z');
const exited = (exitCode: number): Terminated => ({ exitCode, reason: exitCode ? 'Error' : 'Completed', startedAt: t0, finishedAt: t1 });
const container = (state: ContainerRun['state'], name = 'main'): ContainerRun => ({ name, image: 'startup-factory', restartCount: 0, state });
const running = container({ kind: 'running', startedAt: t0 });
const done = (code: number, name = 'main') => container({ kind: 'terminated', terminated: exited(code) }, name);
const run = (main: ContainerRun[], extra: Partial<PodRun> = {}): PodRun => ({ startedAt: t0, ip: '127.9.8.7', init: [], main, ...extra });

describe('podPhase', () => {
  it('is Running while a container runs, whatever the policy', () => {
    expect(podPhase(run([running]), 'Never')).toBe('Running');
  });
  it('is Succeeded when every container exited 0', () => {
    expect(podPhase(run([done(0), done(0, 'side')]), 'Never')).toBe('Succeeded');
    expect(podPhase(run([done(0)]), 'OnFailure')).toBe('Succeeded');
  });
  it('is Failed when a container failed and nothing restarts it', () => {
    expect(podPhase(run([done(0), done(1, 'side')]), 'Never')).toBe('Failed');
  });
  it('stays Running between restarts of a restartable container', () => {
    expect(podPhase(run([done(1)]), 'OnFailure')).toBe('Running');
  });
  it('is Pending until init containers succeed, Failed when one fails for good', () => {
    const waiting = container({ kind: 'waiting', reason: 'PodInitializing' });
    expect(podPhase(run([waiting], { init: [running] }), 'Never')).toBe('Pending');
    expect(podPhase(run([waiting], { init: [done(2, 'init')] }), 'Never')).toBe('Failed');
  });
  it('is Failed when ended from outside (deadline, deletion) unless all had already succeeded', () => {
    const ended = { reason: 'DeadlineExceeded', message: 'too long' };
    expect(podPhase(run([done(143)], { ended }), 'Always')).toBe('Failed');
    expect(podPhase(run([done(0)], { ended }), 'Always')).toBe('Succeeded');
  });
});

describe('podStatus', () => {
  const pod: V1Pod = {
    metadata: { name: 'p', namespace: 'n', uid: 'u' },
    spec: { restartPolicy: 'Never', containers: [{ name: 'main' }] },
    status: {
      qosClass: 'BestEffort',
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: t0 },
        { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', lastTransitionTime: t0 },
      ],
    },
  };

  it('reports a running pod Ready on its own address of the node, keeping transition times that did not flip', () => {
    const status = podStatus(pod, run([running]), t1);
    expect(status.phase).toBe('Running');
    expect(status).toMatchObject({ podIP: '127.9.8.7', podIPs: [{ ip: '127.9.8.7' }], hostIP: '127.0.0.1' });
    const byType = Object.fromEntries((status.conditions ?? []).map((c) => [c.type, c]));
    expect(byType.Ready?.status).toBe('True');
    expect(byType.PodScheduled?.lastTransitionTime).toBe(t0);
    expect(byType.Ready?.lastTransitionTime).toBe(t1);
    // Conditions owned by other controllers survive.
    expect(byType.DisruptionTarget?.reason).toBe('DeletionByPodGC');
    expect(status.containerStatuses?.[0]).toMatchObject({ name: 'main', ready: true, started: true, state: { running: { startedAt: t0 } } });
  });

  it('reports a failed pod with the exit code, reason and message of its container', () => {
    const failed = container({ kind: 'terminated', terminated: { ...exited(3), message: 'bad output' } });
    const status = podStatus(pod, run([failed]), t1);
    expect(status.phase).toBe('Failed');
    expect(status.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 3, reason: 'Error', message: 'bad output' });
    expect(status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
  });

  it('carries the pod-level reason when the pod was ended from outside', () => {
    const status = podStatus(pod, run([done(143)], { ended: { reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' } }), t1);
    expect(status).toMatchObject({ phase: 'Failed', reason: 'DeadlineExceeded' });
  });
});
