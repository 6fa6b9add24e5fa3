import { buildRenderContext, renderScaffold, type FileTree, type RenderInput } from '../../src/templates/index.ts';
import { loadTemplateDir, templateDir } from '../../src/templates/load.ts';
import { localRenderInput } from '../../src/templates/local.ts';

/** A realistic startup per built-in, with characters that would break naive code generation. */
export const STARTUPS = {
  reactnext: {
    name: 'payflow',
    spec: {
      displayName: 'PayFlow "Instant" Payouts',
      industry: 'fintech',
      category: 'payments',
      idea: 'Instant payouts for gig workers: earnings land in their account the moment a job is done, with fees under 1% and no $ minimum.',
      founder: { name: 'Amara Okafor', skills: ['payments', 'full-stack development'], experience: '8 years at a card issuer', goals: 'Reach 10k workers in a year' },
      resources: { memory: '1Gi', cpu: '1', storage: '4Gi' },
    },
    values: { primaryColor: '#0f766e', tagline: 'Get paid the minute you finish' },
  },
  vuenuxt: {
    name: 'greenleaf',
    spec: {
      displayName: 'GreenLeaf Market',
      industry: 'agritech',
      category: 'marketplace',
      idea: 'A marketplace connecting urban restaurants with local farms for same-day produce.',
      founder: { name: 'Lukas Brandt', skills: ['logistics', 'sales'] },
    },
    values: { postgresVersion: '17' },
  },
  fluttermobile: {
    name: 'fitpulse',
    spec: {
      displayName: 'FitPulse',
      industry: 'health',
      category: 'fitness',
      idea: 'Ten-minute workouts that adapt to your heart rate, for people who hate gyms.',
      founder: { name: 'Mei Chen', skills: ['mobile development', 'sports science'] },
    },
    values: {
      androidPackage: 'com.fitpulse.app',
      iosBundleId: 'com.fitpulse.app',
      firebase: { projectId: 'fitpulse-prod', apiKey: 'AIzaSyFakeKeyForTests0123456789', messagingSenderId: '123456789012', storageBucket: 'fitpulse-prod.appspot.com' },
    },
  },
} as const;

export type BuiltinName = keyof typeof STARTUPS;

export async function builtinInput(template: BuiltinName): Promise<RenderInput> {
  const s = STARTUPS[template];
  return localRenderInput(await loadTemplateDir(templateDir(template)), s.name, structuredClone(s.spec) as Record<string, unknown>, structuredClone(s.values) as Record<string, unknown>);
}

export async function renderBuiltin(template: BuiltinName): Promise<{ input: RenderInput; tree: FileTree; context: ReturnType<typeof buildRenderContext> }> {
  const input = await builtinInput(template);
  return { input, tree: renderScaffold(input), context: buildRenderContext(input) };
}
