import { describe, expect, it } from 'vitest';
import { callerOf } from './caller.ts';
import type { AccessClaims } from './claims.ts';

const claims = (extra: Partial<AccessClaims>): AccessClaims => ({
  iss: 'http://hub',
  sub: 'gp-n81001',
  aud: 'imaging-connect',
  scope: 'system/Task.rs',
  client_kind: 'referrer',
  iat: 1,
  exp: 2,
  jti: 'j',
  ...extra,
});

describe('callerOf', () => {
  it('takes the client, its kind, organisation and region from the claims', () => {
    expect(callerOf(claims({ org: 'N81001', region: 'north' }))).toEqual({
      clientId: 'gp-n81001',
      kind: 'referrer',
      organisation: 'N81001',
      region: 'north',
    });
  });

  it('leaves out an organisation or region the token does not carry', () => {
    expect(callerOf(claims({ sub: 'hub', client_kind: 'hub' }))).toEqual({ clientId: 'hub', kind: 'hub' });
  });
});
