import { describe, expect, it } from 'vitest';
import { aiProviderSpecSchema } from '../api/index.ts';
import { candidateProviders, taskProviders, type ProviderView, type Ranker } from './candidates.ts';

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

describe('taskProviders', () => {
  const all = [p('offline', 'offline'), p('openai', 'openai'), p('anthropic', 'anthropic'), p('broken', 'openai', false)];
  const asked: string[][] = [];
  // Reverses, so a test sees whether the ranker decided the order.
  const reverse: Ranker = (providers) => { asked.push(providers.map((x) => x.name)); return [...providers].reverse(); };
  const task = (provider?: string) => ({ type: 'research' as const, ...(provider ? { provider } : {}) });

  it('lets the router order the real providers, the offline one kept as the last resort', () => {
    asked.length = 0;
    expect(names(taskProviders({ routing: 'Learned' }, task(), all, reverse))).toEqual(['openai', 'anthropic', 'offline']);
    expect(asked).toEqual([['anthropic', 'openai']]);
  });

  it('ranks the offline provider with the others when the startup lists it', () => {
    expect(names(taskProviders({ providers: ['offline', 'openai'], routing: 'Learned' }, task(), all, reverse))).toEqual(['openai', 'offline']);
  });

  it('asks no ranking when the task is pinned, the order is the startup\'s, or there is no choice', () => {
    asked.length = 0;
    expect(names(taskProviders({ routing: 'Learned' }, task('anthropic'), all, reverse))).toEqual(['anthropic']);
    expect(names(taskProviders({ providers: ['openai', 'anthropic'], routing: 'Ordered' }, task(), all, reverse))).toEqual(['openai', 'anthropic']);
    expect(names(taskProviders({ providers: ['openai', 'broken'], routing: 'Learned' }, task(), all, reverse))).toEqual(['openai']);
    expect(names(taskProviders({ routing: 'Learned' }, task(), [p('offline', 'offline'), p('openai', 'openai')], reverse))).toEqual(['openai', 'offline']);
    expect(asked).toEqual([]);
  });
});
