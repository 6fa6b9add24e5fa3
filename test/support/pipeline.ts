/** Providers and waits for tests that run pipelines through a test factory's operator. */
import { stringify } from 'yaml';
import { expect } from 'vitest';
import type { Startup } from '../../src/api/index.ts';
import type { KubeObject } from '../../src/kube/client.ts';
import { TOKEN_KEY_SECRET, mintToken, type AttemptClaims } from '../../src/pipeline/token.ts';
import { AiFixture } from './ai-fixture/server.ts';
import { uniqueName, waitFor } from './cluster.ts';
import { apply, type TestFactory } from './factory.ts';
import { pipelineProblems } from './pipeline-audit.ts';

const RUN_LABEL = 'test.startupfactory.dev/run';

export type MockProvider = { name: string; type: 'openai' | 'anthropic' | 'openai-compatible'; baseURL: string; key: string; input: string; output: string };

/** An AIProvider of the factory (its selector label) with its key in a Secret of the operator's namespace. */
export async function applyProvider(factory: TestFactory, p: MockProvider | { name: string; type: 'offline' }, extra: Record<string, unknown> = {}): Promise<void> {
  const labels = { [RUN_LABEL]: factory.run };
  const docs: object[] = [];
  if (p.type !== 'offline') {
    docs.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `${p.name}-key`, namespace: factory.namespace }, stringData: { 'api-key': p.key } });
  }
  docs.push({
    apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider', metadata: { name: p.name, labels },
    spec: p.type === 'offline'
      ? { type: 'offline', model: 'offline-v1', maxConcurrency: 50, ...extra }
      : {
        type: p.type, model: `${p.type}-mock`, baseURL: p.baseURL, secretRef: { name: `${p.name}-key` },
        pricing: { inputPerMillionTokens: p.input, outputPerMillionTokens: p.output }, maxConcurrency: 20, timeoutSeconds: 30, ...extra,
      },
  });
  await apply(docs.map((d) => stringify(d)));
  await waitFor(`provider ${p.name} Ready`, async () => {
    const provider = await factory.client.getOptional<{ apiVersion: string; kind: string; metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }>(
      { apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider', name: p.name });
    return provider?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  }, 60_000);
}

export const providerName = (prefix: string) => uniqueName(prefix);

/** Waits until the Startup's phase is one of `phases`; returns it. */
export function waitForPhase(factory: TestFactory, name: string, phases: string[], timeoutMs = 180_000): Promise<Startup> {
  return waitFor(`${name} to reach ${phases.join(' or ')}`, async () => {
    const s = await factory.get(name);
    return phases.includes(s.status?.phase ?? '') && s.status?.observedGeneration === s.metadata.generation && s;
  }, timeoutMs, 500);
}

/**
 * A mock provider of the factory on a fixture of its own: the fixture started (and closed
 * with the others), its key in a Secret, the AIProvider applied and Ready.
 */
export async function startMockProvider(
  factory: TestFactory, fixtures: Fixtures,
  o: { prefix: string; type: MockProvider['type']; input?: string; output?: string; extra?: Record<string, unknown> } & Omit<ConstructorParameters<typeof AiFixture>[0] & object, 'apiKey'>,
): Promise<{ fixture: AiFixture; provider: MockProvider }> {
  const { prefix, type, input = '1.00', output = '2.00', extra = {}, ...options } = o;
  const key = `sk-${prefix}-${factory.run}`;
  const fixture = await fixtures.start({ ...options, apiKey: key });
  const provider: MockProvider = { name: uniqueName(prefix), type, baseURL: type === 'openai' ? `${fixture.url}/v1` : fixture.url, key, input, output };
  await applyProvider(factory, provider, extra);
  return { fixture, provider };
}

/** Mock providers a test file starts, all closed at once at its end. */
export class Fixtures {
  readonly #all: AiFixture[] = [];

  async start(options: ConstructorParameters<typeof AiFixture>[0]): Promise<AiFixture> {
    const f = new AiFixture(options);
    await f.start();
    this.#all.push(f);
    return f;
  }

  close(): Promise<void> {
    return Promise.all(this.#all.map((f) => f.close())).then(() => undefined);
  }
}

/**
 * A Job of the task, as the scheduler would make it for an attempt but kept suspended
 * (so no pod runs): its name and uid are what a token is minted for, letting a test
 * drive the gateway itself.
 */
export async function suspendedAttemptJob(factory: TestFactory, startup: Startup, task: string): Promise<AttemptClaims> {
  const namespace = `startup-${startup.metadata.name}`;
  const name = `${task}-1`;
  const created = await factory.client.create<KubeObject>({
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: {
      name, namespace,
      labels: { 'app.kubernetes.io/managed-by': 'startup-factory', 'startupfactory.dev/startup': startup.metadata.name, 'startupfactory.dev/task': task, 'startupfactory.dev/attempt': '1' },
      ownerReferences: [{ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', name: startup.metadata.name, uid: startup.metadata.uid!, controller: true }],
    },
    spec: { suspend: true, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'task', image: 'startup-factory:test', args: ['debug', 'exit', '0'] }] } } },
  });
  return { namespace, job: name, uid: created.metadata.uid! };
}

/**
 * A token for an attempt, minted with the key in the gateway's Secret as the operator
 * would: for a test whose operator is a process of its own (no keyring to ask).
 */
export async function operatorToken(factory: TestFactory, claims: AttemptClaims): Promise<string> {
  const key = await factory.client.get<KubeObject & { data: Record<string, string> }>({ apiVersion: 'v1', kind: 'Secret', namespace: factory.namespace, name: TOKEN_KEY_SECRET });
  return mintToken(Buffer.from(key.data.key!, 'base64'), claims);
}

/**
 * Waits for the Startups' pipelines to end, and checks that nothing was lost on the way:
 * each Succeeded, with an output for every one of its tasks and no two attempts of a task
 * at once (`pipelineProblems`).
 */
export async function expectPipelinesComplete(factory: TestFactory, names: readonly string[], timeoutMs: number): Promise<Startup[]> {
  const done: Startup[] = [];
  for (const name of names) {
    const startup = await waitForPhase(factory, name, ['Succeeded', 'Failed'], timeoutMs);
    expect(startup.status?.phase, JSON.stringify(startup.status?.tasks?.filter((t) => t.phase !== 'Succeeded'))).toBe('Succeeded');
    expect(await pipelineProblems(factory.client, startup), name).toEqual([]);
    done.push(startup);
  }
  return done;
}

/** A metric's value summed over the series matching `labels`, from the test factory's operator registry. */
export async function metricSum(factory: TestFactory, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = factory.operator.manager.metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
}
