/**
 * The shared context crosses providers: what a task on an OpenAI-format provider found
 * reaches a later task on Anthropic (in its `system` blocks) and back (in the OpenAI
 * system message), though neither depends on the other directly; and the team can read
 * it in the startup's namespace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTEXT_CONFIGMAP } from '../../../src/pipeline/names.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { validOutput } from '../../support/ai-fixture/replies.ts';
import type { FixtureRequest } from '../../support/ai-fixture/server.ts';
import { uniqueName } from '../../support/cluster.ts';
import { apply, startFactory, type TestFactory } from '../../support/factory.ts';
import { Fixtures, startMockProvider, waitForPhase } from '../../support/pipeline.ts';

let factory: TestFactory;
const fixtures = new Fixtures();

beforeAll(async () => {
  factory = await startFactory([]);
});

afterAll(async () => {
  await factory?.cleanup();
  await fixtures.close();
});

/** A competitor only the OpenAI-side research names, and a founder gap only the Anthropic-side analysis names. */
const COMPETITOR = 'Zyphrax Payouts';
const FOUNDER_GAP = 'needs a compliance co-founder (Quillmark test marker)';

function marked(req: FixtureRequest) {
  const reply = validOutput(req);
  const output = JSON.parse(reply.content);
  if (output.competitors) output.competitors[0].name = COMPETITOR;
  if (output.insights && output.risks) output.risks = [FOUNDER_GAP, ...output.risks];
  return { ...reply, content: JSON.stringify(output) };
}

const typeOf = (req: FixtureRequest) => (req.protocol === 'anthropic' ? req.body?.tool_choice?.name : req.body?.response_format?.json_schema?.name);

describe('shared context', () => {
  it('carries what one provider found to a later task on another, in each one\'s format', async () => {
    const { fixture: oaFix, provider: oa } = await startMockProvider(factory, fixtures, { prefix: 'ctx-oa', type: 'openai', reply: marked });
    const { fixture: anFix, provider: an } = await startMockProvider(factory, fixtures, { prefix: 'ctx-an', type: 'anthropic', reply: marked });
    const name = uniqueName('ctx');
    await apply([factory.manifest(name, {
      displayName: 'Context Co', industry: 'fintech', idea: 'Payouts for couriers.',
      ai: { providers: [oa.name, an.name] },
      pipeline: { tasks: [
        { name: 'market-research', type: 'research', provider: oa.name },
        { name: 'founder-analysis', type: 'analysis', provider: an.name },
        { name: 'business-model', type: 'analysis', dependsOn: ['market-research', 'founder-analysis'], provider: oa.name },
        { name: 'mvp-spec', type: 'spec', dependsOn: ['business-model'], provider: an.name },
        { name: 'architecture', type: 'architecture', dependsOn: ['mvp-spec'], provider: oa.name },
      ] },
    })]);
    const done = await waitForPhase(factory, name, ['Succeeded', 'Failed']);
    expect(done.status?.phase, JSON.stringify(done.status?.conditions)).toBe('Succeeded');

    // mvp-spec, on Anthropic, depends only on business-model: the research reaches it as context, in a system block.
    const spec = anFix.requests.find((r) => typeOf(r) === 'submit_spec')!;
    expect(Array.isArray(spec.body.system)).toBe(true);
    const systemText = (spec.body.system as { type: string; text: string }[]).map((b) => b.text).join('\n');
    expect(systemText).toContain(COMPETITOR);
    expect(systemText).toContain('(from market-research)');
    expect(JSON.stringify(spec.body.messages)).not.toContain(COMPETITOR);

    // architecture, on OpenAI, sees the founder analysis Anthropic wrote, in its system message.
    const arch = oaFix.requests.find((r) => typeOf(r) === 'architecture')!;
    const [system, ...rest] = arch.body.messages as { role: string; content: string }[];
    expect(system!.role).toBe('system');
    expect(system!.content).toContain(FOUNDER_GAP);
    expect(system!.content).toContain(COMPETITOR);
    expect(rest.map((m) => m.role)).toEqual(['user']);
    // business-model has both as direct dependencies: their whole outputs, no context needed.
    const model = oaFix.requests.find((r) => typeOf(r) === 'analysis')!;
    expect((model.body.messages as { content: string }[])[0]!.content).not.toContain('What the team has found so far');

    const cm = await factory.client.get<KubeObject & { data: Record<string, string> }>({ apiVersion: 'v1', kind: 'ConfigMap', namespace: `startup-${name}`, name: CONTEXT_CONFIGMAP });
    expect(Object.keys(cm.data).sort()).toEqual([
      'architecture.json', 'architecture.md', 'business-model.json', 'business-model.md', 'founder-analysis.json', 'founder-analysis.md',
      'market-research.json', 'market-research.md', 'mvp-spec.json', 'mvp-spec.md',
    ]);
    expect(cm.data['market-research.md']).toContain(COMPETITOR);
    expect(cm.metadata.ownerReferences?.[0]?.uid).toBe(done.metadata.uid);
  });
});
