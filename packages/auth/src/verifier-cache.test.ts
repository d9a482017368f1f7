import { isOutcomeError } from '@imaging/fhir';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HUB_URL, testClock, testKey } from './test-kit.ts';
import type { AccessTokenContent, TokenSigner } from './token-service.ts';
import { signAccessToken } from './token-service.ts';
import { createAccessTokenVerifier } from './verifier.ts';

const hubKey = await testKey('hub');
const gp: AccessTokenContent = {
  sub: 'gp-n81001',
  client_kind: 'referrer',
  scope: ['system/Task.rs'],
  org: 'N81001',
  region: 'north',
};

afterEach(() => {
  vi.restoreAllMocks();
});

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (isOutcomeError(err) && err.status === 401) return err.message;
    throw err;
  }
  throw new Error('expected a 401');
}

describe('createAccessTokenVerifier', () => {
  it('checks a token’s signature once, then takes it from memory with the same claims', async () => {
    const clock = testClock();
    const signer: TokenSigner = { signingKey: hubKey, issuer: HUB_URL, clock: clock.clock };
    const verifier = createAccessTokenVerifier({ keys: [hubKey.publicJwk], issuer: HUB_URL, clock: clock.clock });
    const token = (await signAccessToken(gp, signer)).access_token;
    const signatures = vi.spyOn(globalThis.crypto.subtle, 'verify');
    const first = await verifier.verify(token);
    const again = await verifier.verify(token);
    expect(again).toEqual(first);
    expect(first.sub).toBe('gp-n81001');
    expect(signatures).toHaveBeenCalledTimes(1);
  });

  it('still refuses a remembered token once it has expired', async () => {
    const clock = testClock();
    const signer: TokenSigner = { signingKey: hubKey, issuer: HUB_URL, clock: clock.clock };
    const verifier = createAccessTokenVerifier({ keys: [hubKey.publicJwk], issuer: HUB_URL, clock: clock.clock });
    const token = (await signAccessToken(gp, signer)).access_token;
    const claims = await verifier.verify(token);
    clock.advance(claims.exp - claims.iat + 3600);
    expect(await refusal(verifier.verify(token))).toMatch(/expired/);
  });

  it('takes nothing from memory for a token that differs by one character', async () => {
    const clock = testClock();
    const signer: TokenSigner = { signingKey: hubKey, issuer: HUB_URL, clock: clock.clock };
    const verifier = createAccessTokenVerifier({ keys: [hubKey.publicJwk], issuer: HUB_URL, clock: clock.clock });
    const token = (await signAccessToken(gp, signer)).access_token;
    await verifier.verify(token);
    const [header, payload, signature = ''] = token.split('.');
    // Change the signature's first character: its six bits are all data (a last character may only carry padding bits).
    const first = signature[0] === 'A' ? 'B' : 'A';
    const forged = `${header}.${payload}.${first}${signature.slice(1)}`;
    expect(forged).not.toBe(token);
    expect(await refusal(verifier.verify(forged))).toMatch(/signature|malformed/);
  });
});
