import { describe, expect, it } from 'vitest';
import { operatorHelp, parseOperatorConfig } from './config.ts';

describe('parseOperatorConfig: the response cache', () => {
  it('keeps answers an hour, within 64 MiB, by default', () => {
    expect(parseOperatorConfig([], {})).toMatchObject({ cacheMaxAgeSeconds: 3600, cacheMaxBytes: 64 * 1024 * 1024 });
  });

  it('takes its bounds from flags or their environment twins, the flag winning, 0 turning it off', () => {
    expect(parseOperatorConfig(['--cache-max-age-seconds', '0', '--cache-max-bytes', '1048576'], { SF_CACHE_MAX_AGE_SECONDS: '60' }))
      .toMatchObject({ cacheMaxAgeSeconds: 0, cacheMaxBytes: 1_048_576 });
    expect(parseOperatorConfig([], { SF_CACHE_MAX_AGE_SECONDS: '60', SF_CACHE_MAX_BYTES: '0' })).toMatchObject({ cacheMaxAgeSeconds: 60, cacheMaxBytes: 0 });
  });

  it('refuses a bound that is no whole number of seconds or bytes, naming the flag', () => {
    expect(() => parseOperatorConfig(['--cache-max-age-seconds=-1'], {})).toThrow(/^--cache-max-age-seconds: /);
    expect(() => parseOperatorConfig(['--cache-max-bytes', '64Mi'], {})).toThrow(/^--cache-max-bytes: /);
  });

  it('documents both flags with their variables and defaults', () => {
    const help = operatorHelp();
    expect(help).toMatch(/--cache-max-age-seconds\s+SF_CACHE_MAX_AGE_SECONDS\s+.*\(default 3600\)/);
    expect(help).toMatch(/--cache-max-bytes\s+SF_CACHE_MAX_BYTES\s+.*\(default 67108864\)/);
  });
});

describe('parseOperatorConfig: the dashboard', () => {
  it('asks for a token by default, on the bind address', () => {
    expect(parseOperatorConfig([], {})).toMatchObject({ dashboardPort: 8082, dashboardAuth: 'token', bindAddress: '0.0.0.0' });
  });

  it('serves without auth only on loopback', () => {
    expect(parseOperatorConfig(['--dashboard-auth=none', '--dashboard-address=127.0.0.1'], {})).toMatchObject({ dashboardAuth: 'none' });
    expect(parseOperatorConfig(['--dashboard-auth=none', '--bind-address=::1'], {})).toMatchObject({ dashboardAuth: 'none' });
    expect(() => parseOperatorConfig(['--dashboard-auth=none'], {})).toThrow(/^--dashboard-auth: none serves every startup to whoever reaches 0\.0\.0\.0/);
    expect(() => parseOperatorConfig(['--dashboard-auth=none', '--dashboard-address=10.0.0.7'], {})).toThrow(/^--dashboard-auth: /);
  });

  it('can be turned off, and refuses an unknown mode naming the flag', () => {
    expect(parseOperatorConfig([], { SF_DASHBOARD_AUTH: 'off' })).toMatchObject({ dashboardAuth: 'off' });
    expect(() => parseOperatorConfig(['--dashboard-auth=basic'], {})).toThrow(/^--dashboard-auth: /);
  });
});
