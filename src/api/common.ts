import { z } from 'zod';
import { withRules } from './cel.ts';
import { USD_DECIMAL, isUsdDecimal } from './money.ts';
import { MAX_EXPONENT_DIGITS, isPositiveQuantity } from './quantity.ts';

export const API_GROUP = 'startupfactory.dev';
export const API_VERSION = 'v1alpha1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

/** RFC 1123 label: namespaces, object names that become parts of other names. */
export const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** RFC 1035 label: Service names (must start with a letter). */
const DNS_1035_LABEL = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
/** RFC 1123 subdomain: names of cluster-scoped objects such as StartupTemplates. */
const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** The characters (code points) of `s`, which the API server counts where JavaScript's length counts UTF-16 units. */
export function characterCount(s: string): number {
  let count = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const unit = s.charCodeAt(i);
    const next = s.charCodeAt(i + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      count--;
      i++;
    }
  }
  return count;
}

/**
 * Free text of `min` to `max` characters, counted as the API server counts them: zod's own
 * max counts UTF-16 units, so it would refuse 40 emoji in a 63-character field the API
 * server accepts, and the operator would stall a Startup the API server let through.
 */
export function text(max: number, min = 0) {
  const fits = (s: string) => {
    // Within bounds by UTF-16 units is within bounds by characters too: most strings are never counted.
    if (s.length <= max && s.length >= 2 * min) return true;
    const count = characterCount(s);
    return count >= min && count <= max;
  };
  const bounds = min > 0 ? `${min} to ${max} characters` : `at most ${max} characters`;
  return z.string().refine(fits, { message: `must be ${bounds}` }).meta({ ...(min > 0 ? { minLength: min } : {}), maxLength: max });
}

export const dnsSubdomain = (description: string) =>
  z.string().min(1).max(253).regex(new RegExp(DNS_SUBDOMAIN), 'must be a lowercase RFC 1123 subdomain').describe(description);

/**
 * A positive Kubernetes quantity. Users write `cpu: 1` as often as `cpu: "1"`, so the CRD
 * takes either (int-or-string, like core resource lists) and zod hands out a string.
 */
export const quantitySchema = withRules(
  z.union([z.int().min(0), z.string().max(32)]).meta({ 'x-kubernetes-int-or-string': true }).transform(String),
  [{
    // The exponent is looked at first: && stops there, before parsing can take the API server's CPU.
    rule: `!string(self).matches('[eE][-+]?[0-9]{${MAX_EXPONENT_DIGITS + 1}}') && isQuantity(string(self)) && quantity(string(self)).isGreaterThan(quantity('0'))`,
    message: `must be a positive Kubernetes quantity such as 512Mi, 500m or 2 (exponents of at most ${MAX_EXPONENT_DIGITS} digits)`,
    check: isPositiveQuantity,
  }],
);

/** A USD amount a user writes (a budget, a price): a decimal string, refused by the API server otherwise. */
export const usdAmount = (example: string) => withRules(z.string().max(20), [{
  rule: `self.matches('${USD_DECIMAL}')`,
  message: `must be a non-negative decimal amount of USD such as "${example}"`,
  check: isUsdDecimal,
}]);

/** A USD amount the operator writes into status: the pattern guards against its own bugs. */
export const usdStatus = (description: string) => z.string().max(20).regex(new RegExp(USD_DECIMAL)).describe(description);

/**
 * Whether the items are distinct by `key` (by value when there is none): what the API
 * server checks of a list of type set, or of type map by its keys, refusing a repeat as a
 * Duplicate value. zod checks it too, so the CLI and the operator refuse the same lists.
 */
export function distinct<T>(key: (item: T) => unknown = (item) => item): (items: readonly T[]) => boolean {
  return (items) => new Set(items.map(key)).size === items.length;
}

export const MAX_SERVICES = 16;

const serviceSchema = z.strictObject({
  name: z.string().min(1).max(63).regex(new RegExp(DNS_1035_LABEL), 'must be a lowercase RFC 1035 label')
    .describe('Service name in the startup\'s namespace, e.g. frontend, api, db.'),
  port: z.int().min(1).max(65535).describe('Port the Service listens on.'),
}).describe('A Service of the startup.');

export const servicesSchema = withRules(
  z.array(serviceSchema).min(1).max(MAX_SERVICES)
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] }),
  [
    {
      rule: 'self.all(s, self.exists_one(t, t.name == s.name))',
      message: 'service names must be unique',
      check: (services) => new Set(services.map((s) => s.name)).size === services.length,
    },
    {
      rule: 'self.all(s, self.exists_one(t, t.port == s.port))',
      message: 'service ports must be unique',
      check: (services) => new Set(services.map((s) => s.port)).size === services.length,
    },
  ],
);

/** metav1.Time on the wire: RFC 3339 at second precision. */
export const timestamp = (description: string) => z.iso.datetime().describe(description);

export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

/** metav1.Condition, field for field, so kstatus tooling (kubectl wait, Flux, Argo CD) reads ours. */
export const conditionSchema = z.object({
  type: z.string().min(1).max(316).regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/)
    .describe('Type of condition in CamelCase, e.g. Ready, Reconciling, Stalled, Admitted.'),
  status: z.enum(CONDITION_STATUSES).describe('Status of the condition: True, False or Unknown.'),
  observedGeneration: z.int().min(0).optional()
    .describe('metadata.generation the condition was computed from; older than the current generation means stale.'),
  lastTransitionTime: timestamp('Last time the status flipped (not when the condition was last checked).'),
  reason: z.string().min(1).max(1024).regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
    .describe('Machine-readable CamelCase reason for the last transition.'),
  message: z.string().max(32768).describe('Human-readable details about the last transition.'),
});

export const conditionsSchema = z.array(conditionSchema).max(64)
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
  .describe('Observations of the object\'s state, one per type, in the kstatus style (Ready, Reconciling, Stalled and more).');

export const observedGeneration = () =>
  z.int().min(0).describe('metadata.generation the controller last acted on; status is current when it equals the generation.');
