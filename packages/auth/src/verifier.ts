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
}

export interface AccessTokenVerifier {
  /**
   * The token's claims. A bad, expired or foreign token throws a 401 OutcomeError (code `login`);
   * hub keys that cannot be fetched throw a 503 (the token may be fine: the caller may retry).
   */
  verify(token: string): Promise<AccessClaims>;
}

/** Verifies the hub's access tokens: signature by a hub key, `typ`, issuer, audience, expiry and claims. */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const keys = keySource(options);
  const clock = options.clock ?? systemClock;
  const audience = options.audience ?? DEFAULT_ACCESS_TOKEN_AUDIENCE;
  return {
    async verify(token) {
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          algorithms: [...SIGNING_ALGORITHMS],
          issuer: options.issuer,
          audience,
          typ: ACCESS_TOKEN_TYPE,
          requiredClaims: ['exp', 'iat', 'jti', 'sub'],
          currentDate: clock.now(),
          clockTolerance: options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
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
