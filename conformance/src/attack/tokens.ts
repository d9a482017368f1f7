import { createHmac, randomUUID, webcrypto } from 'node:crypto';
import { DEFAULT_ACCESS_TOKEN_AUDIENCE, generateSigningKey, signAccessToken } from '@imaging/auth';
import type { AccessTokenContent, SigningKey } from '@imaging/auth';
import type { TokenVariant } from './surface.ts';

/**
 * Access tokens an attacker can make: each is wrong in exactly one way, and otherwise carries the claims
 * of a real client, so a refusal can only be for that one fault.
 */

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export interface HubSigner {
  key: SigningKey;
  issuer: string;
}

/** The claims the hub would sign for this client now. */
function claimsOf(content: AccessTokenContent, issuer: string) {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: issuer,
    sub: content.sub,
    aud: DEFAULT_ACCESS_TOKEN_AUDIENCE,
    iat: now,
    exp: now + 300,
    jti: randomUUID(),
    scope: content.scope.join(' '),
    client_kind: content.client_kind,
    ...(content.org ? { org: content.org } : {}),
    ...(content.region ? { region: content.region } : {}),
  };
}

/** An ES384 JWS over any header, signed with the given key (what jose would refuse to make for us). */
export async function signEs384(header: Record<string, unknown>, payload: unknown, key: SigningKey): Promise<string> {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature = await webcrypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-384' },
    key.privateKey as unknown as webcrypto.CryptoKey,
    Buffer.from(input),
  );
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

/** A token for `content` that is wrong in the one way `variant` names. `real` is one the hub issued. */
export async function mintToken(
  variant: TokenVariant,
  content: AccessTokenContent,
  hub: HubSigner,
  real: () => Promise<string>,
): Promise<string> {
  const signer = { signingKey: hub.key, issuer: hub.issuer };
  switch (variant) {
    case 'expired':
      return (await signAccessToken(content, { ...signer, clock: { now: () => new Date(Date.now() - 3_600_000) } }))
        .access_token;
    case 'forged-signature':
      // Another key under the hub key's own kid: the verifier picks the hub's key, and the signature fails.
      return (await signAccessToken(content, { ...signer, signingKey: await generateSigningKey('ES384', hub.key.kid) }))
        .access_token;
    case 'wrong-audience':
      return (await signAccessToken(content, { ...signer, audience: 'another-api' })).access_token;
    case 'other-issuer':
      return (await signAccessToken(content, { ...signer, issuer: 'https://another-hub.example' })).access_token;
    case 'alg-none':
      return `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claimsOf(content, hub.issuer))}.`;
    case 'alg-hs256-with-public-key': {
      // The classic confusion: an HMAC keyed with the verifier's own public key.
      const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: hub.key.kid })}.${b64(claimsOf(content, hub.issuer))}`;
      const mac = createHmac('sha256', JSON.stringify(hub.key.publicJwk)).update(input).digest('base64url');
      return `${input}.${mac}`;
    }
    case 'not-an-access-token':
      // Signed by the hub's key, but typed as a plain JWT (an assertion, an id token), not `at+jwt`.
      return signEs384({ alg: 'ES384', typ: 'JWT', kid: hub.key.kid }, claimsOf(content, hub.issuer), hub.key);
    case 'claims-tampered': {
      // A real token with its claims widened and its signature kept.
      const [header, payload, signature] = (await real()).split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const widened = { ...claims, org: 'RM1', scope: 'system/*.cruds hub/route hub/deliver' };
      return `${header}.${b64(widened)}.${signature}`;
    }
  }
}
