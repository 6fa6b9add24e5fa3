import { describe, expect, it } from 'vitest';
import { builtinInput } from '../../test/scaffolds/startups.ts';
import { buildRenderContext, identifierOf, slugify } from './context.ts';

describe('render context', () => {
  it('derives slug and identifier from the display name', () => {
    expect(slugify('PayFlow "Instant" Payouts', 'x')).toBe('payflow-instant-payouts');
    expect(slugify('Café Über', 'x')).toBe('cafe-uber');
    expect(slugify('{{ 7*7 }}', 'fallback')).toBe('7-7');
    expect(slugify('!!!', 'fallback')).toBe('fallback');
    expect(identifierOf('7-eleven')).toBe('app_7_eleven');
    expect(identifierOf('pay-flow')).toBe('pay_flow');
  });

  it('without an allocation, derives what the operator would: namespace, ports, database', async () => {
    const context = buildRenderContext(await builtinInput('reactnext'));
    expect(context.namespace).toBe('startup-payflow');
    expect(context.serviceList).toEqual([{ name: 'frontend', port: 3000 }, { name: 'api', port: 8000 }, { name: 'db', port: 5432 }]);
    expect(context.database).toEqual({ name: 'payflow', secretName: 'database' });
    expect(context.parameters).toEqual({ tagline: 'Get paid the minute you finish', primaryColor: '#0f766e', postgresVersion: '18' });
  });

  it('takes ports, node ports, namespace and database name from the allocation', async () => {
    const input = await builtinInput('reactnext');
    const context = buildRenderContext({
      ...input,
      allocation: { namespace: 'startup-payflow', databaseName: 'payflow_db', services: [{ name: 'frontend', port: 3000, nodePort: 30080 }], nodePorts: [30080] },
    });
    expect(context.services.frontend).toEqual({ name: 'frontend', port: 3000, nodePort: 30080 });
    expect(context.database.name).toBe('payflow_db');
  });

  it('sizes containers to half the quota between them', async () => {
    const input = await builtinInput('reactnext');
    const context = buildRenderContext({ ...input, spec: { ...input.spec, resources: { memory: '1Gi', cpu: '1', storage: '4Gi' } } });
    expect(context.limits).toEqual({ memory: '170Mi', cpu: '166m' });
    expect(context.requests).toEqual({ memory: '85Mi', cpu: '83m' });
  });
});
