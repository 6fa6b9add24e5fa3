/**
 * The embedded default: the whole default pipeline of the reactnext template, run by the
 * offline provider through real Jobs (under the pod runner) and the gateway, with no key.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAnalytics } from '../../../src/analytics/model.ts';
import { ANALYTICS_CONFIGMAP, ANALYTICS_KEY, type AnalyticsConfigMap } from '../../../src/analytics/store.ts';
import type { Startup } from '../../../src/api/index.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { withReviewVerdict } from '../../../src/tasks/rubric.ts';
import { kubectl, kubeconfigPath, uniqueName, waitFor } from '../../support/cluster.ts';
import { apply, condition, settled, startFactory, type TestFactory } from '../../support/factory.ts';
import { applyProvider, waitForPhase } from '../../support/pipeline.ts';

const CLI = new URL('../../../bin/startup-factory.js', import.meta.url).pathname;

let factory: TestFactory;
const offline = uniqueName('offline');
const name = uniqueName('paypilot');
const out = mkdtempSync(join(tmpdir(), 'sf-plan-'));
let done: Startup;

beforeAll(async () => {
  // No Lease: its renewals would be the only writes at rest, and this file counts writes.
  factory = await startFactory(['--leader-elect=false']);
  await applyProvider(factory, { name: offline, type: 'offline' });
  await apply([factory.manifest(name, {
    displayName: 'PayPilot', industry: 'fintech', category: 'payments',
    idea: 'Instant cross-border payouts for freelancers.', founder: { name: 'Amara Okafor', skills: ['payments'] },
    ai: { providers: [offline] },
  })]);
  await waitForPhase(factory, name, ['Succeeded', 'Failed']);
  // A task succeeds when its output is stored; its Job ends a moment later, and usage follows within a second.
  done = await waitFor('usage and Jobs to settle', async () => {
    const s = await factory.get(name);
    const { stdout } = await kubectl(['get', 'jobs', '-n', `startup-${name}`, '-o', 'jsonpath={range .items[*]}{.spec.ttlSecondsAfterFinished}{" "}{end}']);
    const ttls = stdout.trim().split(' ').filter(Boolean);
    return s.status?.usage?.totalCalls === s.status?.tasks?.length && ttls.length === s.status?.tasks?.length && s;
  }, 60_000);
  // The analytics count a completion a few seconds after it (SETTLE_MS), once usage has caught up: a write of its own.
  await waitFor('the analytics to count it', async () => {
    const cm = await factory.client.getOptional<AnalyticsConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', namespace: factory.namespace, name: ANALYTICS_CONFIGMAP });
    return parseAnalytics(cm?.data?.[ANALYTICS_KEY]).recorded[done.metadata.uid!] === true;
  }, 30_000);
});

afterAll(async () => {
  await factory?.cleanup();
  rmSync(out, { recursive: true, force: true });
});

describe('the offline default pipeline', () => {
  it('succeeds, every task through its own Job, and the Startup is Ready', () => {
    expect(done.status?.phase).toBe('Succeeded');
    const tasks = done.status!.tasks!;
    // research, founder analysis, business model, spec, architecture, decompose, one codegen per work item, review.
    expect(tasks.length).toBeGreaterThanOrEqual(9);
    expect(done.status?.progress).toBe(`${tasks.length}/${tasks.length}`);
    expect(tasks.filter((t) => t.name.startsWith('codegen-')).length).toBeGreaterThanOrEqual(3);
    for (const t of tasks) {
      expect(t, t.name).toMatchObject({ phase: 'Succeeded', provider: offline, model: 'offline-v1', attempts: 1, job: `${t.name}-1`, output: `output-${t.name}` });
      expect(t.usage, t.name).toMatchObject({ calls: 1, costUsd: '0.000000' });
      expect(t.quality, t.name).toBeGreaterThanOrEqual(0.6);
      expect(Date.parse(t.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(t.startedAt!));
    }
    expect(condition(done, 'Ready')).toMatchObject({ status: 'True', reason: 'Succeeded' });
    expect(condition(done, 'PipelineSucceeded')).toMatchObject({ status: 'True', reason: 'Succeeded' });
    for (const type of ['Reconciling', 'Stalled']) expect(condition(done, type)?.status).toBe('False');
    expect(done.status?.completedAt).toBeDefined();
    expect(done.status?.usage).toMatchObject({ totalCalls: tasks.length, totalCostUsd: '0.000000' });
  });

  it('weighs the review\'s verdict into each codegen task\'s quality', async () => {
    const codegens = done.status!.tasks!.filter((t) => t.type === 'codegen');
    for (const t of codegens) {
      const cm = await factory.client.get<KubeObject>({ apiVersion: 'v1', kind: 'ConfigMap', namespace: `startup-${name}`, name: t.output! });
      const a = cm.metadata.annotations!;
      expect(a['startupfactory.dev/review-verdict'], t.name).toBe('approve');
      expect(t.quality, t.name).toBe(withReviewVerdict(Number(a['startupfactory.dev/rubric-quality']), 'approve'));
    }
  });

  it('ran dependents only after their dependencies', () => {
    const byName = new Map(done.status!.tasks!.map((t) => [t.name, t]));
    const after = (later: string, earlier: string) => expect(Date.parse(byName.get(later)!.startedAt!), `${later} after ${earlier}`)
      .toBeGreaterThanOrEqual(Date.parse(byName.get(earlier)!.finishedAt!));
    after('business-model', 'market-research');
    after('business-model', 'founder-analysis');
    after('mvp-spec', 'business-model');
    after('decompose', 'architecture');
    for (const t of byName.keys()) if (t.startsWith('codegen-')) after('review', t);
  });

  it('shows the progress in kubectl get su', async () => {
    const { stdout } = await kubectl(['get', 'su', name, '--no-headers']);
    const n = done.status!.tasks!.length;
    expect(stdout).toMatch(new RegExp(`Succeeded\\s+\\S+\\s+startup-${name}\\s+${n}/${n}\\s+0\\.000000\\s+True`));
  });

  it('runs each attempt as a locked-down Job that goes once its output is stored', async () => {
    const { stdout } = await kubectl(['get', 'jobs', '-n', `startup-${name}`, '-o', 'json']);
    const jobs = JSON.parse(stdout).items as { metadata: { name: string }; spec: any }[];
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) {
      const pod = job.spec.template.spec;
      expect(pod.automountServiceAccountToken, job.metadata.name).toBe(false);
      expect(job.spec.ttlSecondsAfterFinished, job.metadata.name).toBeGreaterThan(0);
      expect(JSON.stringify(pod.containers[0].env)).not.toMatch(/sft1\./);
    }
  });

  it('keeps each output as JSON and Markdown, and exports one repository with the scaffold, the generated code and the plan', () => {
    const repo = join(out, 'repo');
    const res = spawnSync(process.execPath, [CLI, 'export', name, '--out', repo, '--kubeconfig', kubeconfigPath()], { encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    const codegens = done.status!.tasks!.filter((t) => t.name.startsWith('codegen-'));
    expect(res.stderr).toMatch(new RegExp(`, \\d+ generated files from ${codegens.length} codegen tasks, the plan in \\d+ files under docs/plan/`));
    const plan = readdirSync(join(repo, 'docs', 'plan'));
    for (const t of done.status!.tasks!) expect(plan).toEqual(expect.arrayContaining([`${t.name}.md`, `${t.name}.json`]));
    expect(readFileSync(join(repo, 'docs', 'plan', 'market-research.md'), 'utf8')).toMatch(/^# .*PayPilot/);
    expect(readFileSync(join(repo, 'docs', 'plan', 'README.md'), 'utf8')).toContain('| [mvp-spec](mvp-spec.md) |');
    expect(readdirSync(join(repo, 'frontend'))).toContain('package.json');
    // Each codegen output's files, byte for byte, over the scaffold.
    const report = readFileSync(join(repo, 'docs', 'plan', 'CODE.md'), 'utf8');
    for (const t of codegens) {
      const output = JSON.parse(readFileSync(join(repo, 'docs', 'plan', `${t.name}.json`), 'utf8')) as { files: { path: string; content: string }[] };
      expect(output.files.length).toBeGreaterThan(0);
      for (const file of output.files) {
        expect(readFileSync(join(repo, file.path), 'utf8'), file.path).toBe(file.content);
        expect(report).toContain(`added     ${file.path}`);
      }
    }
    expect(report).toContain('## Conflicts\n\n_None._');
  });

  it('makes no write when a resync finds a finished pipeline', async () => {
    await settled(factory);
    const { client, metrics } = factory.operator.manager;
    const reconciles = async () => {
      const byController = new Map<string, number>();
      for (const v of (await metrics.reconcileTotal.get()).values) byController.set(String(v.labels.controller), (byController.get(String(v.labels.controller)) ?? 0) + v.value);
      return byController;
    };
    const before = client.requestCounts().mutating;
    const counted = await reconciles();
    // Every controller that reads Startups (provisioning, pipeline, usage) looks at it again.
    factory.operator.startups.startups.resync();
    await waitFor('each controller to reconcile again', async () => {
      const now = await reconciles();
      return ['startup', 'pipeline', 'usage'].every((c) => (now.get(c) ?? 0) > (counted.get(c) ?? 0));
    }, 10_000);
    // Whatever those reconciles queued or recorded (an Event is written in the background) is done before counting.
    await settled(factory);
    expect(client.requestCounts().mutating - before).toBe(0);
  });

  it('tells the story in Events', async () => {
    const events = await waitFor('the PhaseSucceeded Event', async () => {
      const { stdout } = await kubectl(['get', 'events', '-n', 'default', '--field-selector', `involvedObject.name=${name}`, '-o', 'jsonpath={.items[*].reason}']);
      return stdout.includes('PhaseSucceeded') && stdout;
    }, 15_000);
    expect(events.split(' ')).toEqual(expect.arrayContaining(['PhaseProvisioning', 'PhaseRunning', 'PhaseSucceeded']));
  });
});
