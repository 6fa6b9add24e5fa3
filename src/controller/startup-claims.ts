import { parseStartupSpec, startupSpecSchema, type Startup, type StartupSpec, type StartupTemplate } from '../api/index.ts';
import { ConditionType, isConditionTrue, pipelineFinished } from '../api/conditions.ts';
import type { StartupClaim } from '../admission/ledger.ts';
import { bytes, cpuMillis } from '../provisioning/quantity.ts';
import { resolveServicePorts, type ServicePort } from '../provisioning/services.ts';

const resourcesSchema = startupSpecSchema.shape.resources;

/** The spec with defaults filled, or an error naming the first offending field (`spec.pipeline.tasks: ...`). */
export function parseSpec(startup: Startup): StartupSpec {
  const parsed = parseStartupSpec(startup.spec);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new Error(`${['spec', ...issue.path.map(String)].join('.')}: ${issue.message}`);
}

export function servicesOf(spec: Pick<StartupSpec, 'services'>, template: StartupTemplate | undefined): ServicePort[] {
  return resolveServicePorts(spec.services, template?.spec?.services);
}

/** The node ports a Startup's status says it holds, by service. */
export function recordedNodePorts(startup: Startup): Record<string, number> {
  const ports: Record<string, number> = {};
  for (const s of startup.status?.allocation?.services ?? []) if (s.nodePort !== undefined) ports[s.name] = s.nodePort;
  return ports;
}

/**
 * What a Startup asks of the factory, as the allocation ledger sees it: its place in the queue, its size and what
 * its status records. None for a spec that does not validate (the CRD refuses most of those;
 * the operator's own checks, such as a cycle in the pipeline, and an object stored before a
 * stricter CRD, leave some): such a Startup cannot be provisioned, so it must not hold a
 * place in the queue, a slot or capacity either. Unless it was admitted before its spec went
 * bad: its namespace, quota and node ports are still there, and still count.
 */
export function claimOf(startup: Startup): StartupClaim | undefined {
  // Every reconcile asks this of every Startup: once per object the cache holds (a change
  // is a new object), not a schema check and quantity parse per Startup per reconcile.
  if (claims.has(startup)) return claims.get(startup);
  const claim = computeClaim(startup);
  claims.set(startup, claim);
  return claim;
}

const claims = new WeakMap<Startup, StartupClaim | undefined>();

function computeClaim(startup: Startup): StartupClaim | undefined {
  const resources = resourcesSchema.safeParse(startup.spec?.resources);
  if (!resources.success) return undefined;
  const admitted = isConditionTrue(startup.status?.conditions, ConditionType.Admitted);
  if (!admitted && !parseStartupSpec(startup.spec).success) return undefined;
  return {
    name: startup.metadata.name,
    uid: startup.metadata.uid ?? '',
    priority: startup.spec?.priority ?? 0,
    creationTimestamp: String(startup.metadata.creationTimestamp ?? ''),
    requests: { cpuMillis: cpuMillis(resources.data.cpu), memoryBytes: bytes(resources.data.memory) },
    asks: { cpu: resources.data.cpu, memory: resources.data.memory },
    recorded: { admitted, nodePorts: recordedNodePorts(startup) },
    finished: pipelineFinished(startup.status?.conditions),
  };
}
