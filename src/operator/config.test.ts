import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { operatorHelp, parseOperatorConfig, type OperatorConfig } from './config.ts';

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

/**
 * Every flag with two values: the one given by the environment, and the one a flag gives
 * over it. Each must parse, differ from the other, and the environment's from the default,
 * so the twin is seen to be read and to lose.
 */
const twins: Record<string, [env: string, flag: string]> = {
  'kubeconfig': ['/tmp/from-env', '/tmp/from-flag'],
  'namespace': ['ns-env', 'ns-flag'],
  'max-active-startups': ['7', '9'],
  'capacity-cpu': ['4', '8'],
  'capacity-memory': ['4Gi', '8Gi'],
  'node-port-range': ['31000-31009', '32000-32009'],
  'startup-selector': ['shard=env', 'shard=flag'],
  'gateway-port': ['9001', '9002'],
  'gateway-url': ['http://env:1', 'http://flag:2'],
  'cache-max-age-seconds': ['60', '120'],
  'cache-max-bytes': ['1024', '2048'],
  'task-image': ['img:env', 'img:flag'],
  'max-tasks-per-startup': ['2', '3'],
  'max-running-tasks': ['7', '9'],
  'task-deadline-seconds': ['60', '120'],
  'task-max-attempts': ['2', '5'],
  'min-quality': ['0.3', '0.9'],
  'quality-retries': ['0', '2'],
  'label-leader-pod': ['true', 'false'],
  'metrics-port': ['9100', '9200'],
  'dashboard-port': ['9300', '9400'],
  'dashboard-address': ['127.0.0.2', '127.0.0.3'],
  'dashboard-auth': ['off', 'token'],
  'bind-address': ['127.0.0.1', '::1'],
  'leader-elect': ['false', 'true'],
  'lease-name': ['lease-env', 'lease-flag'],
  'owner-deployment': ['deploy-env', 'deploy-flag'],
  'identity': ['pod-env', 'pod-flag'],
  'workers': ['2', '8'],
  'resync-seconds': ['60', '120'],
  'shutdown-seconds': ['5', '10'],
  'api-qps': ['5', '7.5'],
  'api-burst': ['3', '9'],
  'log-level': ['debug', 'warn'],
};

/** `--flag ENV` pairs as `operator --help` prints them: what the operator actually reads. */
const helpPairs = () => operatorHelp().split('\n').map((l) => /^\s+--(\S+)\s+([A-Z_]+)\s/.exec(l)).filter((m) => m !== null).map((m) => [m[1]!, m[2]!] as const);

describe('parseOperatorConfig: every flag and its environment twin', () => {
  const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

  it('knows every flag this test exercises, and this test exercises every flag', () => {
    expect(helpPairs().map(([flag]) => flag).sort()).toEqual(Object.keys(twins).sort());
  });

  it.each(helpPairs())('--%s is read from %s when not given, and wins over it when given', (flag, env) => {
    const [fromEnv, fromFlag] = twins[flag]!;
    const key = camel(flag) as keyof OperatorConfig;
    const byEnv = parseOperatorConfig([], { [env]: fromEnv })[key];
    // The variable means what the flag would, and is not the default.
    expect(byEnv).toEqual(parseOperatorConfig([`--${flag}=${fromEnv}`], {})[key]);
    expect(byEnv).not.toEqual(parseOperatorConfig([], {})[key]);
    const both = parseOperatorConfig([`--${flag}=${fromFlag}`], { [env]: fromEnv })[key];
    expect(both).toEqual(parseOperatorConfig([`--${flag}=${fromFlag}`], {})[key]);
    expect(both).not.toEqual(byEnv);
  });

  it('are the pairs the README documents', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## Operator flags and environment variables'));
    // A row such as | `--api-qps` / `--api-burst` | `SF_API_QPS` / `SF_API_BURST` | ... documents two pairs.
    const documented = [...table.matchAll(/^\| (`--[^|]+`) \| (`[^|]+`) \|/gm)].flatMap((m) => {
      const flags = [...m[1]!.matchAll(/`--([a-z-]+)`/g)].map((f) => f[1]!);
      const envs = [...m[2]!.matchAll(/`([A-Z_]+)`/g)].map((e) => e[1]!);
      expect(envs, m[0]).toHaveLength(flags.length);
      return flags.map((f, i) => [f, envs[i]!] as const);
    });
    expect(new Map(documented)).toEqual(new Map(helpPairs()));
  });
});
