import { describe, expect, it } from 'vitest';
import type { Startup, StartupTemplate } from '../api/index.ts';
import { startupView, taskLevels } from './view.ts';

const template = {
  apiVersion: 'startupfactory.dev/v1alpha1', kind: 'StartupTemplate', metadata: { name: 'tpl' },
  spec: {
    pipeline: {
      tasks: [
        { name: 'research', type: 'research', dependsOn: [] },
        { name: 'spec', type: 'spec', dependsOn: ['research'] },
        { name: 'decompose', type: 'decompose', dependsOn: ['spec'] },
        { name: 'codegen', type: 'codegen', dependsOn: ['decompose'], forEach: 'decompose' },
        { name: 'review', type: 'review', dependsOn: ['codegen', 'research'] },
      ],
    },
  },
} as unknown as StartupTemplate;

function startup(status: Startup['status']): Startup {
  return {
    apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup',
    metadata: { name: 'paypilot', uid: 'u1', creationTimestamp: '2026-12-02T10:00:00Z' as unknown as Date },
    spec: { displayName: 'PayPilot', industry: 'fintech', template: 'tpl', ai: { quota: { costPerDay: '2.5', callsPerHour: 100 } } },
    status,
  } as Startup;
}

describe('taskLevels', () => {
  it('puts each task one column after the deepest task it depends on', () => {
    expect(Object.fromEntries(taskLevels(template.spec!.pipeline!.tasks))).toEqual({ research: 0, spec: 1, decompose: 2, codegen: 3, review: 4 });
  });

  it('adds no depth for a dangling or cyclic reference instead of looping', () => {
    expect(Object.fromEntries(taskLevels([{ name: 'a', dependsOn: ['b'] }, { name: 'b', dependsOn: ['a'] }, { name: 'c', dependsOn: ['nope'] }])))
      .toEqual({ a: 1, b: 0, c: 0 });
  });
});

describe('startupView', () => {
  const now = new Date('2026-12-02T12:30:00Z');

  it('places fan-out items in their task\'s column and counts progress', () => {
    const view = startupView(startup({
      phase: 'Running',
      tasks: [
        { name: 'research', type: 'research', phase: 'Succeeded', provider: 'offline', quality: 0.9, usage: { calls: 1, costUsd: '0.001000' } },
        { name: 'codegen-0', type: 'codegen', phase: 'Running' },
        { name: 'codegen-1', type: 'codegen', phase: 'Pending' },
      ],
    }), template, now);
    expect(view.tasks.map((t) => [t.name, t.level])).toEqual([['research', 0], ['codegen-0', 3], ['codegen-1', 3]]);
    expect(view.tasks[0]).toMatchObject({ provider: 'offline', quality: 0.9, costUsd: '0.001000', calls: 1 });
    expect(view.progress).toEqual({ succeeded: 1, total: 3 });
    expect(view).toMatchObject({ displayName: 'PayPilot', industry: 'fintech', category: '', template: 'tpl', createdAt: '2026-12-02T10:00:00Z' });
  });

  it('counts the spend and calls of the current windows only, with the limits as decimal strings', () => {
    const usage = { day: '2026-12-02', costTodayUsd: '1.250000', hourStartedAt: '2026-12-02T12:00:00Z', callsThisHour: 7, totalCostUsd: '3.000000', totalCalls: 40 };
    expect(startupView(startup({ usage }), template, now)).toMatchObject({
      cost: { todayUsd: '1.250000', limitUsd: '2.500000', totalUsd: '3.000000' }, calls: { thisHour: 7, limit: 100, total: 40 },
    });
    // The next day and the next hour start at zero, whatever the ledger wrote last.
    expect(startupView(startup({ usage }), template, new Date('2026-12-03T00:10:00Z'))).toMatchObject({ cost: { todayUsd: '0.000000' }, calls: { thisHour: 0 } });
  });

  it('still shows a Startup whose spec the operator cannot read, by what it can', () => {
    const bad = { ...startup({}), spec: { displayName: 'Broken', template: 7 } } as unknown as Startup;
    expect(startupView(bad, undefined, now)).toMatchObject({ displayName: 'Broken', phase: 'Pending', tasks: [] });
  });
});
