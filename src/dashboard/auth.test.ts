import { describe, expect, it } from 'vitest';
import type { KubeClient } from '../kube/client.ts';
import { ManualClock } from '../../test/support/manual-clock.ts';
import { TokenAuthorizer, credentialsOf } from './auth.ts';

type Review = { authenticated: boolean; allowed?: boolean; fail?: boolean };

/** The two review APIs, answering by token; every request counted. */
function reviewer(answers: Record<string, Review>) {
  const requests: { path: string; body: any }[] = [];
  const client = {
    request: async (_method: string, path: string, o: { body: any }) => {
      requests.push({ path, body: o.body });
      await Promise.resolve();
      if (path.endsWith('/tokenreviews')) {
        const a = answers[o.body.spec.token];
        if (a?.fail) throw new Error('connect ECONNREFUSED');
        return { status: { authenticated: a?.authenticated ?? false, user: a?.authenticated ? { username: `user-${o.body.spec.token}`, groups: ['team'] } : undefined } };
      }
      const token = o.body.spec.user.replace(/^user-/, '');
      return { status: { allowed: answers[token]?.allowed ?? false, reason: answers[token]?.allowed ? undefined : 'no RBAC rule' } };
    },
  } as unknown as KubeClient;
  return { client, requests };
}

describe('TokenAuthorizer', () => {
  const answers = { good: { authenticated: true, allowed: true }, weak: { authenticated: true, allowed: false }, down: { authenticated: true, fail: true } };

  it('needs a token, one the API server accepts, of a user who may list Startups', async () => {
    const { client, requests } = reviewer(answers);
    const auth = new TokenAuthorizer({ client, clock: new ManualClock() });
    await expect(auth.authorize(undefined)).resolves.toMatchObject({ kind: 'unauthenticated' });
    await expect(auth.authorize('forged')).resolves.toMatchObject({ kind: 'unauthenticated', reason: 'the API server does not accept this token' });
    await expect(auth.authorize('weak')).resolves.toEqual({ kind: 'forbidden', user: 'user-weak', reason: 'user-weak may not list startups.startupfactory.dev (no RBAC rule)' });
    await expect(auth.authorize('good')).resolves.toEqual({ kind: 'allowed', user: 'user-good' });
    // The access review asks about the reviewed user with its groups, for exactly `kubectl get startups`.
    expect(requests.at(-1)!.body.spec).toMatchObject({ user: 'user-good', groups: ['team'], resourceAttributes: { group: 'startupfactory.dev', resource: 'startups', verb: 'list' } });
  });

  it('asks once for many requests at once, remembers the answer for its TTL, then asks again', async () => {
    const clock = new ManualClock();
    const { client, requests } = reviewer(answers);
    const auth = new TokenAuthorizer({ client, clock, ttlMs: 10_000 });
    const all = await Promise.all(Array.from({ length: 50 }, () => auth.authorize('good')));
    expect(all.every((a) => a.kind === 'allowed')).toBe(true);
    expect(requests).toHaveLength(2);
    clock.advance(9_999);
    await auth.authorize('good');
    expect(requests).toHaveLength(2);
    clock.advance(2);
    await auth.authorize('good');
    expect(requests).toHaveLength(4);
  });

  it('does not remember a failure to reach the API server: it is an error, and the next request asks again', async () => {
    const { client, requests } = reviewer(answers);
    const auth = new TokenAuthorizer({ client, clock: new ManualClock() });
    await expect(auth.authorize('down')).rejects.toThrow(/ECONNREFUSED/);
    await expect(auth.authorize('down')).rejects.toThrow(/ECONNREFUSED/);
    expect(requests).toHaveLength(2);
  });
});

describe('credentialsOf', () => {
  it('takes a bearer token, else the session cookie', () => {
    expect(credentialsOf({ authorization: 'Bearer abc.def' })).toBe('abc.def');
    expect(credentialsOf({ authorization: 'bearer  abc ' })).toBe('abc');
    expect(credentialsOf({ cookie: 'theme=dark; sf_token=eyJ%3D%3D; other=1' })).toBe('eyJ==');
    expect(credentialsOf({ authorization: 'Basic dXNlcg==', cookie: 'x=1' })).toBeUndefined();
    expect(credentialsOf({})).toBeUndefined();
  });
});
