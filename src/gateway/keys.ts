import type { AIProviderSpec } from '../api/index.ts';
import type { KubeClient, KubeObject } from '../kube/client.ts';
import type { Clock } from '../lib/clock.ts';
import { keySecret } from '../providers/readiness.ts';

/**
 * How long a key read by name is reused. Every call needs its provider's key; reading
 * the Secret each time would put an API round trip on every call's path. Nothing else
 * is kept: one value per provider, in this process's memory only, never the Secret,
 * never written anywhere. A rotated key is picked up within this long, or at once when
 * the upstream refuses the old one.
 */
const KEY_TTL_MS = 30_000;

type Entry = { value: Promise<string | undefined>; at: number };

/** Provider API keys, read by name from the operator's namespace (see keySecret). */
export class ProviderKeys {
  readonly #client: KubeClient;
  readonly #namespace: string;
  readonly #clock: Clock;
  readonly #memo = new Map<string, Entry>();

  constructor(client: KubeClient, namespace: string, clock: Clock) {
    this.#client = client;
    this.#namespace = namespace;
    this.#clock = clock;
  }

  /** The key of a provider, or undefined when its Secret or key is missing (or outside the operator's namespace). */
  get(provider: string, spec: AIProviderSpec): Promise<string | undefined> {
    const ref = keySecret(spec, this.#namespace);
    if (!ref || 'refused' in ref) return Promise.resolve(undefined);
    const id = `${provider}\u0000${ref.name}\u0000${ref.key}`;
    const now = this.#clock.now();
    const cached = this.#memo.get(id);
    if (cached && now - cached.at < KEY_TTL_MS) return cached.value;
    const value = this.#client.getOptional<KubeObject & { data?: Record<string, string> }>({ apiVersion: 'v1', kind: 'Secret', namespace: ref.namespace, name: ref.name })
      .then((secret) => {
        const data = secret?.data?.[ref.key];
        return data ? Buffer.from(data, 'base64').toString('utf8').trim() : undefined;
      });
    value.catch(() => this.#memo.delete(id));
    this.#memo.set(id, { value, at: now });
    return value;
  }

  /** Forgets a provider's key: the upstream said it is wrong, so the next call reads the Secret again. */
  invalidate(provider: string): void {
    for (const id of this.#memo.keys()) if (id.startsWith(`${provider}\u0000`)) this.#memo.delete(id);
  }
}
