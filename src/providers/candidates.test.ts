import { describe, expect, it } from 'vitest';
import { aiProviderSpecSchema } from '../api/index.ts';
import { candidateProviders, type ProviderView } from './candidates.ts';

const p = (name: string, type: 'openai' | 'anthropic' | 'offline', ready = true): ProviderView => ({
  name, ready, spec: aiProviderSpecSchema.parse({ type, model: 'm', ...(type === 'offline' ? {} : { secretRef: { name: 'k' } }) }),
});
const names = (r: ReturnType<typeof candidateProviders>) => (r.ok ? r.providers.map((x) => x.name) : r.message);

describe('candidateProviders', () => {
  const all = [p('offline', 'offline'), p('openai', 'openai'), p('anthropic', 'anthropic'), p('broken', 'openai', false)];

  it('keeps the Startup\'s order, skipping what is not Ready', () => {
    expect(names(candidateProviders(['openai', 'broken', 'anthropic'], undefined, all))).toEqual(['openai', 'anthropic']);
  });

  it('defaults to every Ready provider, offline last', () => {
    expect(names(candidateProviders(undefined, undefined, all))).toEqual(['anthropic', 'openai', 'offline']);
    expect(names(candidateProviders([], undefined, [p('offline', 'offline')]))).toEqual(['offline']);
  });

  it('uses only the task\'s own provider when it names one', () => {
    expect(names(candidateProviders(['openai'], 'anthropic', all))).toEqual(['anthropic']);
  });

  it('says which providers were wanted when none is Ready', () => {
    expect(names(candidateProviders(['broken', 'ghost'], undefined, all))).toBe('no Ready AIProvider to use: broken (not Ready), ghost (not found)');
    expect(names(candidateProviders(undefined, undefined, []))).toMatch(/no AIProvider exists/);
  });
});
