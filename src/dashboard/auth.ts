import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { API_GROUP } from '../api/index.ts';
import type { KubeClient } from '../kube/client.ts';
import type { Clock } from '../lib/clock.ts';

/** What the dashboard answers to a request, before it serves anything. */
export type Access =
  | { kind: 'allowed'; user: string }
  | { kind: 'unauthenticated'; reason: string }
  | { kind: 'forbidden'; user: string; reason: string };

/** Decides a request from its credentials; `none` lets everyone in (loopback only, config enforces it). */
export interface Authorizer {
  authorize(credentials: string | undefined): Promise<Access>;
}

export const openAccess: Authorizer = { authorize: async () => ({ kind: 'allowed', user: 'anonymous (--dashboard-auth=none)' }) };

type TokenReview = {
  status?: { authenticated?: boolean; error?: string; user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> } };
};
type SubjectAccessReview = { status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string } };

/** The right a viewer needs, the same `kubectl get startups` needs. */
export const REQUIRED_ACCESS = { group: API_GROUP, resource: 'startups', verb: 'list' } as const;

export type TokenAuthorizerOptions = {
  client: KubeClient;
  clock: Clock;
  /** How long a decision about a token stands (default 10 s), so a page's requests and reconnects cost the API server one review. */
  ttlMs?: number;
  /** Tokens remembered at most (default 1000). */
  maxEntries?: number;
};

/**
 * The cluster decides who sees the dashboard, as it decides who runs `kubectl`: the bearer
 * token must pass a TokenReview and its user must be allowed to list Startups by a
 * SubjectAccessReview (what kube-rbac-proxy and the Kubernetes dashboard do). Decisions are
 * remembered a few seconds per token, keyed by its hash (the token itself is never kept);
 * errors reaching the API server are not remembered and surface as errors, not denials.
 */
export class TokenAuthorizer implements Authorizer {
  readonly #o: TokenAuthorizerOptions;
  readonly #decisions: LRUCache<string, { access: Access; until: number }>;
  readonly #pending = new Map<string, Promise<Access>>();

  constructor(options: TokenAuthorizerOptions) {
    this.#o = options;
    this.#decisions = new LRUCache({ max: options.maxEntries ?? 1000 });
  }

  async authorize(token: string | undefined): Promise<Access> {
    if (!token) return { kind: 'unauthenticated', reason: 'a bearer token is required (kubectl create token <service-account>)' };
    const key = createHash('sha256').update(token).digest('base64url');
    const now = this.#o.clock.now();
    const known = this.#decisions.get(key);
    if (known && known.until > now) return known.access;
    // Many requests of one page arrive together: one review answers them all.
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = this.#review(token).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    const access = await pending;
    this.#decisions.set(key, { access, until: this.#o.clock.now() + (this.#o.ttlMs ?? 10_000) });
    return access;
  }

  async #review(token: string): Promise<Access> {
    const review = await this.#o.client.request<TokenReview>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    });
    const user = review.status?.user;
    if (!review.status?.authenticated || !user?.username) {
      return { kind: 'unauthenticated', reason: 'the API server does not accept this token' };
    }
    const sar = await this.#o.client.request<SubjectAccessReview>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      body: {
        apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
        spec: {
          user: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups ?? [], ...(user.extra ? { extra: user.extra } : {}),
          resourceAttributes: REQUIRED_ACCESS,
        },
      },
    });
    if (sar.status?.allowed) return { kind: 'allowed', user: user.username };
    return {
      kind: 'forbidden', user: user.username,
      reason: `${user.username} may not ${REQUIRED_ACCESS.verb} ${REQUIRED_ACCESS.resource}.${REQUIRED_ACCESS.group}${sar.status?.reason ? ` (${sar.status.reason})` : ''}`,
    };
  }
}

/** The token of a request: `Authorization: Bearer`, else the session cookie the login form sets. */
export function credentialsOf(headers: { authorization?: string | undefined; cookie?: string | undefined }): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  if (bearer) return bearer[1];
  for (const part of (headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE && value.length > 0) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

export const SESSION_COOKIE = 'sf_token';
