import type { StartupSpec, StartupStatus, StartupTemplateSpec } from '../api/index.ts';
import { startupNamespace, startupProfile } from '../api/startup.ts';
import { DATABASE_SECRET, databaseName } from '../provisioning/database.ts';
import { bytes, cpuMillis, formatMillis } from '../provisioning/quantity.ts';
import { resolveServicePorts } from '../provisioning/services.ts';
import { resolveParameters, type Parameters } from './parameters.ts';

export type Allocation = NonNullable<StartupStatus['allocation']>;

type Service = { name: string; port: number; nodePort?: number | undefined };

/** Everything a template file can see. Plain data only: no functions, no host state. */
export type RenderContext = {
  startup: {
    name: string;
    displayName: string;
    slug: string;
    identifier: string;
    industry: string;
    category: string;
    idea: string;
    founder: { name: string; skills: string[]; experience: string; goals: string };
  };
  namespace: string;
  template: { name: string; framework: string };
  services: Record<string, Service>;
  serviceList: Service[];
  /** The database Secret provisioning creates holds keys database, username, password, host, port, url. */
  database: { name: string; secretName: string };
  resources: { memory: string; cpu: string; storage: string };
  limits: { memory: string; cpu: string };
  requests: { memory: string; cpu: string };
  parameters: Parameters;
};

export type RenderInput = {
  name: string;
  spec: StartupSpec;
  template: { name: string; spec: StartupTemplateSpec };
  /** What the operator allocated; omitted for a local render, where it is derived from the spec. */
  allocation?: Allocation | undefined;
};

/** The share of the namespace quota the scaffold's own workloads may take: the rest is for pipeline Jobs. */
const WORKLOAD_SHARE = 0.5;

/** `Acme Pay!` → `acme-pay`: for package names, hostnames, image names. */
export function slugify(text: string, fallback: string): string {
  const slug = text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return slug || fallback;
}

/** A snake_case identifier valid in Python, Dart and SQL (Dart package names must look like this). */
export function identifierOf(slug: string): string {
  const id = slug.replace(/-/g, '_');
  return /^[a-z]/.test(id) ? id : `app_${id}`;
}

function perContainer(total: { memory: string; cpu: string }, containers: number) {
  const n = Math.max(1, containers);
  const mib = Math.max(16, Math.floor((bytes(total.memory) * WORKLOAD_SHARE) / n / 2 ** 20));
  const millis = Math.max(10, Math.floor((cpuMillis(total.cpu) * WORKLOAD_SHARE) / n));
  return {
    limits: { memory: `${mib}Mi`, cpu: formatMillis(millis) },
    // Requests at half the limits let a container burst while the quota (which counts both) still holds.
    requests: { memory: `${Math.max(8, Math.floor(mib / 2))}Mi`, cpu: formatMillis(Math.max(5, Math.floor(millis / 2))) },
  };
}

/**
 * The render context for a startup: pure, so the operator and `startup-factory render`
 * produce the same bytes from the same inputs. Parameters are validated against the
 * template's schema (defaults applied) here, so a bad value fails before any file.
 */
export function buildRenderContext(input: RenderInput): RenderContext {
  const { name, spec, template, allocation } = input;
  const declared = resolveServicePorts(spec.services, template.spec.services);
  const allocated = new Map((allocation?.services ?? []).map((s) => [s.name, s]));
  const serviceList = declared.map((s) => {
    const a = allocated.get(s.name);
    return a ? { name: s.name, port: a.port, ...(a.nodePort !== undefined ? { nodePort: a.nodePort } : {}) } : { name: s.name, port: s.port };
  });
  // The Startup's own resources (defaults filled by its schema) are its quota: the
  // template's figures only say what it was sized for.
  const resources = { ...spec.resources };
  const slug = slugify(spec.displayName, name);
  return {
    startup: {
      ...startupProfile(name, spec),
      slug,
      identifier: identifierOf(slug),
    },
    namespace: allocation?.namespace ?? startupNamespace(name),
    template: { name: template.name, framework: template.spec.framework },
    services: Object.fromEntries(serviceList.map((s) => [s.name, s])),
    serviceList,
    database: { name: allocation?.databaseName ?? databaseName(name), secretName: DATABASE_SECRET },
    resources,
    ...perContainer(resources, serviceList.length),
    parameters: resolveParameters(template.spec.parameters ?? {}, spec.values),
  };
}
