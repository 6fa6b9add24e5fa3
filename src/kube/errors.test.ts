import { describe, expect, it } from 'vitest';
import { ApiError, isAlreadyExists, isConflict, isNotFound, retryOnConflict, statusCode } from './errors.ts';

describe('error classifiers', () => {
  it('read our ApiError and client-node ApiException alike', () => {
    const typedApiConflict = { code: 409, body: JSON.stringify({ kind: 'Status', reason: 'Conflict' }) };
    const typedApiExists = { code: 409, body: JSON.stringify({ kind: 'Status', reason: 'AlreadyExists' }) };
    expect(isConflict(typedApiConflict)).toBe(true);
    expect(isAlreadyExists(typedApiExists)).toBe(true);
    expect(isConflict(typedApiExists)).toBe(false);
    expect(isNotFound(new ApiError(404, 'gone', 'NotFound'))).toBe(true);
    expect(statusCode(new Error('network'))).toBeUndefined();
    expect(isConflict(undefined)).toBe(false);
  });
});

describe('retryOnConflict', () => {
  it('retries only conflicts, up to the attempt limit', async () => {
    let n = 0;
    await expect(retryOnConflict(async () => { n++; throw new ApiError(409, 'stale', 'Conflict'); }, 3)).rejects.toThrow('stale');
    expect(n).toBe(3);
    n = 0;
    await expect(retryOnConflict(async () => { n++; throw new ApiError(422, 'invalid', 'Invalid'); })).rejects.toThrow('invalid');
    expect(n).toBe(1);
    n = 0;
    expect(await retryOnConflict(async () => (++n < 2 ? Promise.reject(new ApiError(409, 'stale', 'Conflict')) : 'ok'))).toBe('ok');
  });
});
