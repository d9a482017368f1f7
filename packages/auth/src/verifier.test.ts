import { describe, expect, it } from 'vitest';
import { HUB_URL, testClock, testKey } from './test-kit.ts';
import type { AccessTokenContent } from './token-service.ts';
import { DEFAULT_CLOCK_TOLERANCE_SECONDS, signAccessToken } from './token-service.ts';
import { createAccessTokenVerifier } from './verifier.ts';

const hubKey = await testKey('hub');
const gateway: AccessTokenContent = {
  sub: 'gateway-north',
  client_kind: 'gateway',
  scope: ['system/Task.cruds'],
  region: 'north',
};
const LIFETIME = 300;

/**
 * The hub and a gateway each run on their own clock. A token the hub issues with its clock is checked
 * by the gateway with the gateway's: within the tolerance a skew changes nothing, beyond it the token
 * is refused rather than trusted past its expiry.
 */
async function verifyAcrossSkew(hubAheadSeconds: number, gatewayLaterSeconds: number) {
  const hub = testClock();
  hub.advance(hubAheadSeconds);
  const token = (
    await signAccessToken(gateway, { signingKey: hubKey, issuer: HUB_URL, clock: hub.clock, ttlSeconds: LIFETIME })
  ).access_token;
  const local = testClock();
  local.advance(gatewayLaterSeconds);
  return createAccessTokenVerifier({ keys: [hubKey.publicJwk], issuer: HUB_URL, clock: local.clock }).verify(token);
}

describe('access tokens across clocks that disagree', () => {
  it('accepts a token from a hub whose clock is ahead, issued in the gateway’s future', async () => {
    const claims = await verifyAcrossSkew(120, 0);
    expect(claims.sub).toBe('gateway-north');
    expect(claims.iat).toBeGreaterThan(Math.floor(testClock().clock.now().getTime() / 1000));
  });

  it('accepts a token up to the tolerance past its expiry on the gateway’s clock, and refuses it after', async () => {
    const tolerance = DEFAULT_CLOCK_TOLERANCE_SECONDS;
    expect((await verifyAcrossSkew(0, LIFETIME + tolerance - 1)).sub).toBe('gateway-north');
    await expect(verifyAcrossSkew(0, LIFETIME + tolerance + 1)).rejects.toMatchObject({
      status: 401,
      message: expect.stringMatching(/expired/),
    });
  });

  it('refuses a token from a hub whose clock runs an hour behind: on the gateway’s clock it has expired', async () => {
    await expect(verifyAcrossSkew(-3600, 0)).rejects.toMatchObject({ status: 401 });
  });
});
