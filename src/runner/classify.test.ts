import { describe, expect, it } from 'vitest';
import { APIConnectionError, AuthenticationError, RateLimitError, InternalServerError, BadRequestError, APIError } from 'openai';
import { classify } from './classify.ts';

const headers = (h: Record<string, string>) => new Headers(h);

describe('classify', () => {
  it('retries rate limits and server errors, honouring Retry-After', () => {
    expect(classify(new RateLimitError(429, undefined, 'slow down', headers({ 'retry-after': '2' })))).toMatchObject({ kind: 'transient', reason: 'RateLimited', retryAfterMs: 2000 });
    expect(classify(new RateLimitError(429, undefined, 'x', headers({ 'retry-after-ms': '150' })))).toMatchObject({ retryAfterMs: 150 });
    expect(classify(new InternalServerError(500, undefined, 'boom', headers({})))).toMatchObject({ kind: 'transient', reason: 'UpstreamError' });
    expect(classify(new APIConnectionError({ message: 'Connection error.' }))).toMatchObject({ kind: 'transient', reason: 'ConnectionFailed' });
    expect(classify(new TypeError('terminated'))).toMatchObject({ kind: 'transient' });
  });

  it('fails fast on what retrying cannot fix', () => {
    expect(classify(new AuthenticationError(401, undefined, 'bad key', headers({})))).toMatchObject({ kind: 'permanent', reason: 'Unauthorized' });
    expect(classify(new BadRequestError(400, undefined, 'bad', headers({})))).toMatchObject({ kind: 'permanent', reason: 'BadRequest' });
    expect(classify(APIError.generate(403, undefined, 'no', headers({})))).toMatchObject({ kind: 'permanent', reason: 'Forbidden' });
  });

  it('reads what the gateway itself says', () => {
    const gw = (status: number, code: string) => APIError.generate(status, undefined, code, headers({ 'x-startupfactory-error': code }));
    expect(classify(gw(402, 'budget-exceeded'))).toMatchObject({ kind: 'budget', reason: 'BudgetExceeded' });
    expect(classify(gw(401, 'invalid-token'))).toMatchObject({ kind: 'revoked' });
    expect(classify(gw(403, 'provider-not-allowed'))).toMatchObject({ kind: 'next-provider' });
    expect(classify(gw(502, 'upstream-unreachable'))).toMatchObject({ kind: 'transient', reason: 'UpstreamUnreachable' });
    expect(classify(gw(503, 'unavailable'))).toMatchObject({ kind: 'transient' });
  });
});
