import { describe, expect, it } from 'vitest';
import { databaseName, desiredDatabaseSecret } from './database.ts';
import { DEFAULT_SERVICES } from './services.ts';

describe('database', () => {
  it('derives a PostgreSQL identifier from the startup name', () => {
    expect(databaseName('pay-flow')).toBe('pay_flow');
    expect(databaseName('42labs')).toBe('db_42labs');
  });

  it('builds the Secret from the given password, with a URL pointing at the db Service', () => {
    const secret = desiredDatabaseSecret({ name: 'pay-flow', uid: 'u' }, DEFAULT_SERVICES, 'p@ss/word');
    expect(secret.metadata).toMatchObject({ name: 'database', namespace: 'startup-pay-flow', labels: { 'startupfactory.dev/startup': 'pay-flow' } });
    expect(secret.stringData).toEqual({
      database: 'pay_flow',
      username: 'pay_flow',
      password: 'p@ss/word',
      host: 'db.startup-pay-flow.svc',
      port: '5432',
      url: 'postgresql://pay_flow:p%40ss%2Fword@db.startup-pay-flow.svc:5432/pay_flow',
    });
  });
});
