import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KubeClient, KubeObject, OwnerReference } from '../kube/client.ts';
import { isAlreadyExists } from '../kube/errors.ts';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../provisioning/metadata.ts';

/** Which attempt a token speaks for: its Job, by name and uid (a Job re-created under the same name is another attempt). */
export type AttemptClaims = { namespace: string; job: string; uid: string };

const PREFIX = 'sft1';

/**
 * A task attempt's gateway token: its claims, signed with the factory's key. The gateway
 * checks the signature, then that the Job is still running, so a token is good only
 * while its attempt is: it needs no store, survives operator restarts and failovers (the
 * key lives in a Secret every replica reads), and dies with its Job.
 */
export function mintToken(key: Buffer, claims: AttemptClaims): string {
  const payload = Buffer.from(JSON.stringify([claims.namespace, claims.job, claims.uid])).toString('base64url');
  return `${PREFIX}.${payload}.${sign(key, payload)}`;
}

/** The claims of a token signed with `key`, or undefined for anything else. */
export function verifyToken(key: Buffer, token: string): AttemptClaims | undefined {
  const [prefix, payload, signature, ...rest] = token.split('.');
  if (prefix !== PREFIX || !payload || !signature || rest.length > 0) return undefined;
  const expected = Buffer.from(sign(key, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (!Array.isArray(parsed) || parsed.length !== 3 || !parsed.every((p) => typeof p === 'string')) return undefined;
    const [namespace, job, uid] = parsed as [string, string, string];
    return { namespace, job, uid };
  } catch {
    return undefined;
  }
}

function sign(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

export const TOKEN_KEY_SECRET = 'startup-factory-gateway-token-key';
const KEY_FIELD = 'key';

/**
 * The signing key, in a Secret of the operator's namespace: made once by whichever
 * replica leads first, read by name by every later leader. It is the one Secret the
 * operator keeps in memory, since it signs and checks every task call; it is its own,
 * never a provider's key. Made owned by `owner` (the operator's Deployment), it goes with it.
 */
export async function loadTokenKey(client: KubeClient, namespace: string, owner?: OwnerReference): Promise<Buffer> {
  const ref = { apiVersion: 'v1', kind: 'Secret', namespace, name: TOKEN_KEY_SECRET };
  type Secret = KubeObject & { data?: Record<string, string> };
  for (;;) {
    const existing = await client.getOptional<Secret>(ref);
    const data = existing?.data?.[KEY_FIELD];
    if (data) return Buffer.from(data, 'base64');
    if (existing) throw new Error(`Secret ${namespace}/${TOKEN_KEY_SECRET} has no key "${KEY_FIELD}": delete it and the operator makes a new one`);
    try {
      const key = randomBytes(32);
      await client.create<Secret>({
        apiVersion: 'v1', kind: 'Secret',
        metadata: { name: TOKEN_KEY_SECRET, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY }, ...(owner ? { ownerReferences: [owner] } : {}) },
        type: 'Opaque', data: { [KEY_FIELD]: key.toString('base64') },
      });
      return key;
    } catch (err) {
      // Another replica made it first: read theirs.
      if (!isAlreadyExists(err)) throw err;
    }
  }
}

/**
 * The signing key once loaded (by the leader, when it starts leading), for the scheduler
 * that mints tokens and the gateway that checks them.
 */
export class TokenKeyring {
  #key: Promise<Buffer> | undefined;
  readonly #load: () => Promise<Buffer>;

  constructor(load: () => Promise<Buffer>) {
    this.#load = load;
  }

  key(): Promise<Buffer> {
    this.#key ??= this.#load().catch((err: unknown) => {
      this.#key = undefined;
      throw err;
    });
    return this.#key;
  }

  async mint(claims: AttemptClaims): Promise<string> {
    return mintToken(await this.key(), claims);
  }

  async verify(token: string): Promise<AttemptClaims | undefined> {
    return verifyToken(await this.key(), token);
  }
}
