import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Every operator setting, as a flag with an environment-variable twin (flags win), so the
 * Helm chart can use either. Parsed once at start; an invalid value stops the process with
 * a one-line message naming the flag.
 */
const optionTable = {
  'kubeconfig': { env: 'KUBECONFIG', type: 'string', help: 'kubeconfig file; in-cluster config when unset' },
  'namespace': { env: 'POD_NAMESPACE', type: 'string', default: 'startup-factory', help: 'namespace the operator runs in (Lease, provider key Secrets, budget ledgers, the gateway\'s key)' },
  'max-active-startups': { env: 'SF_MAX_ACTIVE_STARTUPS', type: 'string', default: '5', help: 'at most this many Startups are being built (provisioning or pipeline running) at once; a finished one frees its slot and keeps its namespace' },
  'capacity-cpu': { env: 'SF_CAPACITY_CPU', type: 'string', help: 'sum of admitted startups\' cpu quotas may not exceed this (default: cluster allocatable)' },
  'capacity-memory': { env: 'SF_CAPACITY_MEMORY', type: 'string', help: 'sum of admitted startups\' memory quotas may not exceed this (default: cluster allocatable)' },
  'node-port-range': { env: 'SF_NODE_PORT_RANGE', type: 'string', default: '30000-30999', help: 'pool of node ports for spec.expose: NodePort, "first-last"' },
  'startup-selector': { env: 'SF_STARTUP_SELECTOR', type: 'string', help: 'manage only Startups and AIProviders matching this label selector (shards of one cluster need disjoint --node-port-range)' },
  'gateway-port': { env: 'SF_GATEWAY_PORT', type: 'string', default: '8081', help: 'port of the AI gateway that task Jobs call (it listens on the leader only)' },
  'gateway-url': { env: 'SF_GATEWAY_URL', type: 'string', help: 'the gateway\'s address as task pods reach it, e.g. http://startup-factory-gateway.startup-factory.svc:8081 (default: http://127.0.0.1:<gateway-port>, for pods on this machine)' },
  'cache-max-age-seconds': { env: 'SF_CACHE_MAX_AGE_SECONDS', type: 'string', default: '3600', help: 'the gateway answers a model call identical to one answered within this many seconds from its cache, free and unbilled; 0 turns the cache off' },
  'cache-max-bytes': { env: 'SF_CACHE_MAX_BYTES', type: 'string', default: String(64 * 1024 * 1024), help: 'bytes of answers the gateway\'s response cache holds, 64 MiB by default (the least recently used go first); 0 turns the cache off' },
  'task-image': { env: 'SF_TASK_IMAGE', type: 'string', default: `startup-factory:${VERSION}`, help: 'image of the pipeline task Jobs (they run `startup-factory task run`)' },
  'max-tasks-per-startup': { env: 'SF_MAX_TASKS_PER_STARTUP', type: 'string', default: '4', help: 'task attempts running at once for one startup (each takes a quarter of its quota)' },
  'max-running-tasks': { env: 'SF_MAX_RUNNING_TASKS', type: 'string', default: '20', help: 'task attempts running at once across all startups' },
  'task-deadline-seconds': { env: 'SF_TASK_DEADLINE_SECONDS', type: 'string', default: '900', help: 'activeDeadlineSeconds of a task attempt\'s Job' },
  'task-max-attempts': { env: 'SF_TASK_MAX_ATTEMPTS', type: 'string', default: '3', help: 'attempts a task gets for transient failures before it fails (budget stops do not count)' },
  'min-quality': { env: 'SF_MIN_QUALITY', type: 'string', default: '0.6', help: 'a task answer scoring below this (its type\'s rubric, 0 to 1) is asked of another provider too, and the better one is kept' },
  'quality-retries': { env: 'SF_QUALITY_RETRIES', type: 'string', default: '1', help: 'how many more providers a task asks after an answer below --min-quality (each a call against the budget); 0 keeps the first valid answer' },
  'label-leader-pod': { env: 'SF_LABEL_LEADER_POD', type: 'string', default: 'false', help: 'label this pod (named by --identity) startupfactory.dev/leader=true while it leads, for the gateway Service' },
  'metrics-port': { env: 'SF_METRICS_PORT', type: 'string', default: '8080', help: 'port for /metrics, /healthz and /readyz' },
  'dashboard-port': { env: 'SF_DASHBOARD_PORT', type: 'string', default: '8082', help: 'port of the web dashboard and its JSON API under /api/ (every replica serves it, from its informer caches)' },
  'dashboard-address': { env: 'SF_DASHBOARD_ADDRESS', type: 'string', help: 'address the dashboard listens on (default: --bind-address)' },
  'dashboard-auth': { env: 'SF_DASHBOARD_AUTH', type: 'string', default: 'token', help: 'token: only a bearer token the API server accepts (TokenReview) whose user may list Startups (SubjectAccessReview); none: anyone who reaches it, allowed only on a loopback --dashboard-address; off: no dashboard' },
  'bind-address': { env: 'SF_BIND_ADDRESS', type: 'string', default: '0.0.0.0', help: 'address the HTTP servers listen on' },
  'leader-elect': { env: 'SF_LEADER_ELECT', type: 'string', default: 'true', help: 'hold a coordination.k8s.io Lease so only one replica reconciles' },
  'lease-name': { env: 'SF_LEASE_NAME', type: 'string', default: 'startup-factory-leader', help: 'name of the leader-election Lease' },
  'owner-deployment': { env: 'SF_OWNER_DEPLOYMENT', type: 'string', help: 'the Deployment in --namespace that runs the operator: the Lease and the gateway\'s signing key it makes there are owned by it, so they go when it does (helm uninstall)' },
  'identity': { env: 'POD_NAME', type: 'string', help: 'leader-election identity (default: hostname and pid)' },
  'workers': { env: 'SF_WORKERS', type: 'string', default: '4', help: 'concurrent reconciles (one per key at most)' },
  'resync-seconds': { env: 'SF_RESYNC_SECONDS', type: 'string', default: '300', help: 'every object is reconciled at least this often' },
  'shutdown-seconds': { env: 'SF_SHUTDOWN_SECONDS', type: 'string', default: '20', help: 'on SIGTERM, in-flight reconciles get this long before they are abandoned (keep below the pod\'s termination grace period)' },
  'api-qps': { env: 'SF_API_QPS', type: 'string', default: '50', help: 'client-side limit on API requests per second' },
  'api-burst': { env: 'SF_API_BURST', type: 'string', default: '100', help: 'burst allowed above --api-qps' },
  'log-level': { env: 'LOG_LEVEL', type: 'string', default: 'info', help: 'pino log level' },
} as const;

type OptionName = keyof typeof optionTable;

const quantity = z.string().regex(/^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/, 'must be a Kubernetes quantity such as 8Gi or 4');
const boolString = z.enum(['true', 'false']).transform((v) => v === 'true');
const intString = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const configSchema = z.object({
  kubeconfig: z.string().optional(),
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name'),
  maxActiveStartups: intString(1, 10_000),
  capacityCpu: quantity.optional(),
  capacityMemory: quantity.optional(),
  startupSelector: z.string().min(1).optional(),
  nodePortRange: z.string().regex(/^\d+-\d+$/, 'must be "first-last"').transform((v, ctx) => {
    const [first, last] = v.split('-').map(Number) as [number, number];
    if (first < 1 || last > 65535 || first > last) ctx.addIssue({ code: 'custom', message: 'must be an ascending range within 1-65535' });
    return { first, last };
  }),
  gatewayPort: intString(0, 65535),
  gatewayUrl: z.string().regex(/^https?:\/\/[^/]+(\/.*)?$/, 'must be an http(s) URL').optional(),
  cacheMaxAgeSeconds: intString(0, 31 * 86_400),
  cacheMaxBytes: intString(0, 2 ** 40),
  taskImage: z.string().min(1),
  maxTasksPerStartup: intString(1, 100),
  maxRunningTasks: intString(1, 10_000),
  taskDeadlineSeconds: intString(30, 86_400),
  taskMaxAttempts: intString(1, 20),
  minQuality: z.coerce.number().min(0).max(1),
  qualityRetries: intString(0, 8),
  labelLeaderPod: boolString,
  metricsPort: intString(0, 65535),
  dashboardPort: intString(0, 65535),
  dashboardAddress: z.string().min(1).optional(),
  dashboardAuth: z.enum(['token', 'none', 'off']),
  bindAddress: z.string().min(1),
  leaderElect: boolString,
  leaseName: z.string().min(1),
  ownerDeployment: z.string().min(1).optional(),
  identity: z.string().optional(),
  workers: intString(1, 256),
  resyncSeconds: intString(10, 86_400),
  shutdownSeconds: intString(1, 3600),
  apiQps: z.coerce.number().positive(),
  apiBurst: intString(1, 100_000),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
}).superRefine((c, ctx) => {
  // An open dashboard anyone on the network reaches would show every startup's plan and spend.
  // `kubectl port-forward` still reaches loopback inside a pod, so a cluster can use it too.
  if (c.dashboardAuth === 'none' && !isLoopback(c.dashboardAddress ?? c.bindAddress)) {
    ctx.addIssue({ code: 'custom', path: ['dashboardAuth'], message: `none serves every startup to whoever reaches ${c.dashboardAddress ?? c.bindAddress}; use it with --dashboard-address=127.0.0.1 (kubectl port-forward reaches loopback), or keep token` });
  }
});

function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}

export type OperatorConfig = z.infer<typeof configSchema>;

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function parseOperatorConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.keys(optionTable).map((name) => [name, { type: 'string' as const }])),
    strict: true,
    allowPositionals: false,
  });
  const raw: Record<string, string | undefined> = {};
  for (const [name, option] of Object.entries(optionTable) as [OptionName, (typeof optionTable)[OptionName]][]) {
    const fromFlag = values[name] as string | undefined;
    const fromEnv = env[option.env] === '' ? undefined : env[option.env];
    raw[camel(name)] = fromFlag ?? fromEnv ?? ('default' in option ? option.default : undefined);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const flag = String(issue.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    throw new Error(`--${flag}: ${issue.message}`);
  }
  return parsed.data;
}

/** The flag reference printed by `operator --help` and copied into the README. */
export function operatorHelp(): string {
  return Object.entries(optionTable)
    .map(([name, o]) => `  --${name.padEnd(22)} ${o.env.padEnd(24)} ${o.help}${'default' in o ? ` (default ${o.default})` : ''}`)
    .join('\n');
}
