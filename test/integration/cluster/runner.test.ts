import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, localClusterPaths, uniqueName, waitFor, waitForGone, waitForObject } from '../../support/cluster.ts';

const local = localClusterPaths();
let ns = '';

async function apply(manifest: object): Promise<void> {
  const r = await kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
  expect(r.stderr).toBe('');
}

function job(name: string, spec: { args: string[]; backoffLimit?: number; activeDeadlineSeconds?: number; container?: object; pod?: object }) {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: ns },
    spec: {
      backoffLimit: spec.backoffLimit ?? 0,
      activeDeadlineSeconds: spec.activeDeadlineSeconds,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: 'ghcr.io/example/startup-factory:dev', args: spec.args, ...spec.container }],
          ...spec.pod,
        },
      },
    },
  };
}

const jobCondition = (type: string) => (j: any) => j.status?.conditions?.some((c: any) => c.type === type && c.status === 'True');

async function podsOf(jobName: string): Promise<any[]> {
  const r = await kubectl(['get', 'pods', '-n', ns, '-l', `job-name=${jobName}`, '-o', 'json']);
  return JSON.parse(r.stdout).items;
}

function podLog(pod: string): string {
  return readFileSync(join(local!.logs, `${ns}_${pod}.log`), 'utf8');
}

// These exercise the local pod runner: against a foreign cluster (KUBECONFIG) there is none.
describe.runIf(local)('the local pod runner', () => {
  beforeAll(async () => {
    ns = uniqueName('runner');
    expect((await kubectl(['create', 'namespace', ns])).code).toBe(0);
    await waitForObject(['serviceaccount', 'default', '-n', ns], () => true, 'the default ServiceAccount');
  });
  afterAll(async () => {
    if (ns) await kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']);
  });

  it('registers a Ready node with the machine as its capacity', async () => {
    const node = await waitForObject<any>(['node', 'local-runner'],
      (n) => n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'), 'a Ready node');
    expect(Number(node.status.capacity.cpu)).toBeGreaterThan(0);
    expect(node.status.capacity.pods).toBe('110');
    expect(node.spec.taints ?? []).toEqual([]);
  });

  it('completes a Job whose pod runs a trivial startup-factory command, with its env resolved', async () => {
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: ns }, data: { mode: 'fast' } });
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: ns }, stringData: { token: 's3cret' } });
    await apply(job('ok', {
      args: ['debug', 'env', 'POD', 'NS', 'MODE', 'TOKEN', 'GREETING', 'KUBECONFIG'],
      container: {
        workingDir: '/work/app',
        env: [
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
          { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
          { name: 'GREETING', value: 'hello $(POD)' },
        ],
      },
    }));
    await waitForObject(['job', 'ok', '-n', ns], jobCondition('Complete'), 'Job ok to complete');
    const [pod] = await podsOf('ok');
    expect(pod.status.phase).toBe('Succeeded');
    expect(pod.spec.nodeName).toBe('local-runner');
    expect(pod.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    const name = pod.metadata.name;
    const log = podLog(name);
    expect(log).toContain(`POD=${name}\nNS=${ns}\nMODE=fast\nTOKEN=s3cret\nGREETING=hello ${name}\n`);
    // The pod's service account reaches the API through the kubeconfig the runner gave it.
    const kubeconfig = /KUBECONFIG=(.+)/.exec(log)?.[1] ?? '';
    expect(existsSync(kubeconfig)).toBe(true);
    const whoami = await kubectl(['--kubeconfig', kubeconfig, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    expect(whoami.stdout).toBe(`system:serviceaccount:${ns}:default`);
  });

  it('gives each pod a loopback address of its own, in its status and its downward API, for the CLI to listen on', async () => {
    await apply(job('addresses', {
      args: ['debug', 'env', 'POD_IP', 'HOST_IP', 'SF_BIND_ADDRESS'],
      container: { env: [
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
      ] },
    }));
    const twin = job('addresses-twin', { args: ['debug', 'env', 'POD_IP'], container: { env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] } });
    await apply(twin);
    for (const name of ['addresses', 'addresses-twin']) await waitForObject(['job', name, '-n', ns], jobCondition('Complete'), `Job ${name} to complete`);
    const [pod] = await podsOf('addresses');
    const [other] = await podsOf('addresses-twin');
    expect(pod.status.podIP).toMatch(/^127\.(?!0\.)\d+\.\d+\.\d+$/);
    expect(pod.status.hostIP).toBe('127.0.0.1');
    expect(other.status.podIP).not.toBe(pod.status.podIP);
    expect(podLog(pod.metadata.name)).toContain(`POD_IP=${pod.status.podIP}\nHOST_IP=127.0.0.1\nSF_BIND_ADDRESS=${pod.status.podIP}\n`);
  });

  it('retries a failing pod per backoffLimit, then fails the Job with the exit code and message', async () => {
    await apply(job('fails', {
      args: ['debug', 'exit', '3', 'the model answered nonsense'], backoffLimit: 1,
      container: { terminationMessagePolicy: 'FallbackToLogsOnError' },
    }));
    const failed = await waitForObject<any>(['job', 'fails', '-n', ns], jobCondition('Failed'), 'Job fails to fail', 120_000);
    expect(failed.status.conditions.find((c: any) => c.type === 'Failed').reason).toBe('BackoffLimitExceeded');
    expect(failed.status.failed).toBe(2);
    const pods = await podsOf('fails');
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.status.phase).toBe('Failed');
      expect(pod.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 3, reason: 'Error', message: 'the model answered nonsense\n' });
    }
  });

  it('ends a hanging Job at its activeDeadlineSeconds and kills the process', async () => {
    await apply(job('hangs', { args: ['debug', 'sleep', '600'], activeDeadlineSeconds: 3 }));
    const failed = await waitForObject<any>(['job', 'hangs', '-n', ns], jobCondition('Failed'), 'Job hangs to hit its deadline', 120_000);
    expect(failed.status.conditions.find((c: any) => c.type === 'Failed').reason).toBe('DeadlineExceeded');
    await waitFor('the hanging pod to be gone', async () => (await podsOf('hangs')).length === 0);
  });

  it('ends a pod at its own activeDeadlineSeconds like a kubelet', async () => {
    await apply({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'deadline', namespace: ns },
      spec: { restartPolicy: 'Never', activeDeadlineSeconds: 2, containers: [{ name: 'main', image: 'startup-factory', args: ['debug', 'sleep', '600'] }] },
    });
    const pod = await waitForObject<any>(['pod', 'deadline', '-n', ns], (p) => p.status?.phase === 'Failed', 'pod deadline to fail');
    expect(pod.status.reason).toBe('DeadlineExceeded');
    expect(pod.status.containerStatuses[0].state.terminated.exitCode).toBe(143);
  });

  it('runs a Deployment of the project image and stops its process when the pod is deleted', async () => {
    await apply({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'server', namespace: ns },
      spec: {
        replicas: 1, selector: { matchLabels: { app: 'server' } },
        template: {
          metadata: { labels: { app: 'server' } },
          spec: { terminationGracePeriodSeconds: 5, containers: [{ name: 'main', image: 'startup-factory:latest', args: ['debug', 'sleep', '3600'] }] },
        },
      },
    });
    await waitForObject(['deployment', 'server', '-n', ns], (d: any) => d.status?.availableReplicas === 1, 'Deployment server to be available');
    const pods = JSON.parse((await kubectl(['get', 'pods', '-n', ns, '-l', 'app=server', '-o', 'json'])).stdout).items;
    expect(pods).toHaveLength(1);
    const pod = pods[0].metadata.name;
    const scratch = join(local!.pods, `${ns}_${pod}_${pods[0].metadata.uid}`);
    const pids = readFileSync(join(scratch, 'pids'), 'utf8').trim().split('\n').map(Number);
    expect((await kubectl(['delete', 'pod', pod, '-n', ns, '--wait=true', '--timeout=60s'])).code).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    await waitFor('the pod scratch dir to be removed', async () => !existsSync(scratch));
    await waitForObject(['deployment', 'server', '-n', ns], (d: any) => d.status?.availableReplicas === 1, 'a replacement pod');
  });

  it('runs init containers first, then the containers side by side', async () => {
    await apply({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'multi', namespace: ns },
      spec: {
        restartPolicy: 'Never',
        initContainers: [{ name: 'init', image: 'startup-factory', args: ['debug', 'echo', 'init done'] }],
        containers: [
          { name: 'a', image: 'startup-factory', args: ['debug', 'sleep', '1'] },
          { name: 'b', image: 'startup-factory', args: ['debug', 'echo', 'b done'] },
        ],
      },
    });
    const pod = await waitForObject<any>(['pod', 'multi', '-n', ns], (p) => p.status?.phase === 'Succeeded', 'pod multi to succeed');
    expect(pod.status.initContainerStatuses[0].state.terminated.exitCode).toBe(0);
    expect(pod.status.containerStatuses.map((c: any) => c.state.terminated?.exitCode)).toEqual([0, 0]);
    // Both outputs present, the init container's first (indexOf is -1 for a missing one, which would pass a bare comparison).
    const log = podLog('multi');
    const init = log.indexOf('init done');
    const b = log.indexOf('b done');
    expect(init, log).toBeGreaterThanOrEqual(0);
    expect(b, log).toBeGreaterThan(init);
  });

  it('waits with CreateContainerConfigError until a referenced Secret exists', async () => {
    await apply({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'needs-secret', namespace: ns },
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'main', image: 'startup-factory', args: ['debug', 'env', 'KEY'], env: [{ name: 'KEY', valueFrom: { secretKeyRef: { name: 'later', key: 'k' } } }] }],
      },
    });
    const waiting = await waitForObject<any>(['pod', 'needs-secret', '-n', ns],
      (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError', 'a config error');
    expect(waiting.status.containerStatuses[0].state.waiting.message).toBe('secret "later" not found');
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'later', namespace: ns }, stringData: { k: 'arrived' } });
    await waitForObject(['pod', 'needs-secret', '-n', ns], (p: any) => p.status?.phase === 'Succeeded', 'the pod to run once the Secret exists');
    expect(podLog('needs-secret')).toContain('KEY=arrived');
  });

  it('leaves a pod of any other image Pending, with an Event saying why', async () => {
    await apply({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: ns },
      spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] },
    });
    const events = await waitFor('an Event about pod web', async () => {
      const r = await kubectl(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=web', '-o', 'json']);
      const items = JSON.parse(r.stdout).items;
      return items.length ? items : undefined;
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'Warning', reason: 'FailedScheduling' });
    expect(events[0].message).toContain('nginx:1.27');
    const pod = JSON.parse((await kubectl(['get', 'pod', 'web', '-n', ns, '-o', 'json'])).stdout);
    expect(pod.status.phase).toBe('Pending');
    expect(pod.spec.nodeName).toBeUndefined();
    expect(pod.status.conditions).toContainEqual(expect.objectContaining({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }));
    await kubectl(['delete', 'pod', 'web', '-n', ns, '--wait=false']);
    await waitForGone(['pod', 'web', '-n', ns], 'the unscheduled pod to go');
  });
});
