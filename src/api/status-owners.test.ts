import { describe, expect, it } from 'vitest';
import { aiProviderStatusSchema } from './provider.ts';
import { startupStatusSchema } from './startup.ts';
import { PROVIDER_STATS, PROVIDER_STATUS, STARTUP_LEDGER, STARTUP_PIPELINE, STARTUP_PROVISIONING } from './status-owners.ts';
import { ConditionType } from './conditions.ts';

const writers = [STARTUP_PROVISIONING, STARTUP_PIPELINE, STARTUP_LEDGER];

describe('Startup status owners', () => {
  it('share no field, no condition type and no field manager', () => {
    const fields = writers.flatMap((w) => w.fields);
    const conditions = writers.flatMap((w) => w.conditionTypes);
    expect(new Set(fields).size).toBe(fields.length);
    expect(new Set(conditions).size).toBe(conditions.length);
    expect(new Set(writers.map((w) => w.fieldManager)).size).toBe(writers.length);
  });

  it('leave no status field and no condition type without an owner', () => {
    const owned = new Set(['conditions', ...writers.flatMap((w) => w.fields)]);
    expect(Object.keys(startupStatusSchema.shape).filter((f) => !owned.has(f))).toEqual([]);
    const types = new Set(writers.flatMap((w) => w.conditionTypes));
    expect(Object.values(ConditionType).filter((t) => !types.has(t))).toEqual([]);
  });
});

describe('AIProvider status owners', () => {
  const providerWriters = [PROVIDER_STATUS, PROVIDER_STATS];

  it('share no field and no field manager, and leave no status field without an owner', () => {
    const fields = providerWriters.flatMap((w) => w.fields);
    expect(new Set(fields).size).toBe(fields.length);
    expect(new Set(providerWriters.map((w) => w.fieldManager)).size).toBe(providerWriters.length);
    const owned = new Set([...fields, ...(providerWriters.some((w) => w.conditionTypes.length > 0) ? ['conditions'] : [])]);
    expect(Object.keys(aiProviderStatusSchema.shape).filter((f) => !owned.has(f))).toEqual([]);
  });
});
