import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mintToken, verifyToken } from './token.ts';

const key = randomBytes(32);
const claims = { namespace: 'startup-acme', job: 'market-research-1', uid: '1f2e-33' };

describe('task tokens', () => {
  it('carry the attempt they were minted for', () => {
    expect(verifyToken(key, mintToken(key, claims))).toEqual(claims);
  });

  it('are refused when forged, altered, signed with another key or malformed', () => {
    const token = mintToken(key, claims);
    const [prefix, , signature] = token.split('.');
    const other = Buffer.from(JSON.stringify(['startup-acme', 'market-research-1', 'another-uid'])).toString('base64url');
    expect(verifyToken(key, `${prefix}.${other}.${signature}`)).toBeUndefined();
    expect(verifyToken(randomBytes(32), token)).toBeUndefined();
    expect(verifyToken(key, `${token}x`)).toBeUndefined();
    for (const bad of ['', 'sft1', 'sft1..', 'Bearer x', `${token}.extra`]) expect(verifyToken(key, bad)).toBeUndefined();
  });
});
