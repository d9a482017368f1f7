import { OutcomeError, unauthorized, unavailable } from '@imaging/fhir';
import { errors, jwtVerify } from 'jose';
import type { JSONWebKeySet, JWTVerifyGetKey } from 'jose';
import type { AccessClaims } from './claims.ts';
import { ACCESS_TOKEN_TYPE, AccessClaimsSchema } from './claims.ts';
import type { Clock } from '@imaging/fhir';
import { systemClock } from '@imaging/fhir';
import type { PublicJwk } from './keys.ts';
import { SIGNING_ALGORITHMS } from './keys.ts';
import type { FetchLike } from './remote-keys.ts';
import { KeyFetchError, localKeys, remoteKeys } from './remote-keys.ts';
import { DEFAULT_ACCESS_TOKEN_AUDIENCE, DEFAULT_CLOCK_TOLERANCE_SECONDS } from './token-service.ts';

export interface AccessTokenVerifierOptions {
  /** URL of the hub's JWKS, fetched and cached (give this or `keys`). */
  jwks?: string | URL;
  /** The hub's public keys, given directly (tests, or a pinned deployment). */
  keys?: JSONWebKeySet | readonly PublicJwk[];
  /** The hub's URL: the `iss` every token must carry. */
  issuer: string;
  /** The `aud` every token must carry (default `imaging-connect`). */
  audience?: string;
  clock?: Clock;
  clockToleranceSeconds?: number;
  /** For fetching the JWKS (tests route it to a Hono app). */
  fetch?: FetchLike;
  cacheMaxAgeMs?: number;
  /** How many verified tokens to remember until they expire (default 10,000; 0 remembers none). */
  verifiedTokens?: number;
}

export interface AccessTokenVerifier {
  /**
   * The token's claims. A bad, expired or foreign token throws a 401 OutcomeError (code `login`);
   * hub keys that cannot be fetched throw a 503 (the token may be fine: the caller may retry).
   */
  verify(token: string): Promise<AccessClaims>;
}

/**
 * Verifies the hub's access tokens: signature by a hub key, `typ`, issuer, audience, expiry and claims.
 *
 * A token that verified is remembered until it expires: a client sends the same token with every
 * request for minutes, and checking its signature was the costliest step of a request. It is looked up
 * by the whole token, so only the exact bytes that verified are taken from memory, and its expiry is
 * checked every time. (A hub key withdrawn from the JWKS stops new tokens at once; tokens it signed
 * that were already seen stay good for the rest of their short life, as they would for a verifier
 * that had just fetched the keys.)
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const keys = keySource(options);
  const clock = options.clock ?? systemClock;
  const audience = options.audience ?? DEFAULT_ACCESS_TOKEN_AUDIENCE;
  const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  const remember = options.verifiedTokens ?? 10_000;
  const verified = new Map<string, AccessClaims>();
  return {
    async verify(token) {
      const known = verified.get(token);
      // jose's own rule: expired once exp is at or before now, less the tolerance.
      if (known && known.exp > clock.now().getTime() / 1000 - tolerance) return known;
      verified.delete(token);
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          algorithms: [...SIGNING_ALGORITHMS],
          issuer: options.issuer,
          audience,
          typ: ACCESS_TOKEN_TYPE,
          requiredClaims: ['exp', 'iat', 'jti', 'sub'],
          currentDate: clock.now(),
          clockTolerance: tolerance,
        }));
      } catch (err) {
        throw verificationFailure(err, options.issuer, audience);
      }
      const claims = AccessClaimsSchema.safeParse(payload);
      if (!claims.success) {
        throw invalidToken(
          `The access token's claims are malformed (${claims.error.issues.map((i) => i.path.join('.')).join(', ')})`,
        );
      }
      if (remember > 0) {
        if (verified.size >= remember) verified.delete(verified.keys().next().value as string);
        verified.set(token, claims.data);
      }
      return claims.data;
    },
  };
}

function keySource(options: AccessTokenVerifierOptions): JWTVerifyGetKey {
  if (options.jwks && options.keys) throw new Error('Give the verifier jwks (a URL) or keys, not both');
  if (options.jwks) {
    return remoteKeys(options.jwks, {
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.cacheMaxAgeMs !== undefined ? { cacheMaxAgeMs: options.cacheMaxAgeMs } : {}),
    });
  }
  if (options.keys) {
    const list = Array.isArray(options.keys) ? options.keys : (options.keys as JSONWebKeySet).keys;
    return localKeys({ keys: [...list] });
  }
  throw new Error('The verifier needs jwks (a URL) or keys');
}

const invalidToken = (text: string) => new OutcomeError(unauthorized(text));

function verificationFailure(err: unknown, issuer: string, audience: string): OutcomeError {
  if (err instanceof KeyFetchError)
    return new OutcomeError(unavailable(`Cannot check the access token: ${err.message}`));
  if (err instanceof errors.JWTExpired) return invalidToken('The access token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return invalidToken(`The access token was not issued by ${issuer}`);
    if (err.claim === 'aud') return invalidToken(`The access token is not for audience ${audience}`);
    if (err.claim === 'typ') return invalidToken(`The token is not an access token (typ ${ACCESS_TOKEN_TYPE})`);
    return invalidToken(`The access token's ${err.claim} claim is ${err.reason === 'missing' ? 'missing' : 'invalid'}`);
  }
  if (err instanceof errors.JWKSNoMatchingKey)
    return invalidToken('The access token is signed with a key the hub does not publish');
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return invalidToken('The access token signature does not verify');
  if (err instanceof errors.JOSEAlgNotAllowed)
    return invalidToken(`The access token must be signed with ${SIGNING_ALGORITHMS.join(' or ')}`);
  if (err instanceof errors.JOSEError) return invalidToken('The access token is malformed');
  throw err;
}
