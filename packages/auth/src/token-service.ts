import type { FhirStore } from '@imaging/fhir';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose';
import type { JWTPayload } from 'jose';
import { z } from 'zod';
import { recordAssertionUse } from './assertion-records.ts';
import type { AccessClaims, ClientKindClaim } from './claims.ts';
import { ACCESS_TOKEN_TYPE } from './claims.ts';
import type { Clock } from '@imaging/fhir';
import { systemClock } from '@imaging/fhir';
import { epochSeconds } from './clock.ts';
import { HUB_CLIENT_ID, tokenEndpointOf } from './endpoints.ts';
import type { SigningKey } from './keys.ts';
import { isSigningAlgorithm, SIGNING_ALGORITHMS } from './keys.ts';
import type { ClientRegistration, ClientRegistry } from './registry.ts';
import { KeyFetchError } from './remote-keys.ts';
import { grantScopes, splitScopes } from './scopes.ts';

/**
 * The hub's token service: SMART Backend Services (client credentials with a private_key_jwt
 * assertion, RFC 7523). Errors are OAuth errors (RFC 6749 §5.2), not OperationOutcomes: the token
 * endpoint is OAuth, and that is the format SMART clients read.
 */

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const DEFAULT_ACCESS_TOKEN_AUDIENCE = 'imaging-connect';
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 300;
/** SMART: an assertion's `exp` is no more than five minutes in the future. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
/** Allowed difference between the client's clock and ours. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 10;

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'invalid_scope'
  | 'unsupported_grant_type';

/** An OAuth token error: 401 for `invalid_client` (the client failed to authenticate), else 400. */
export class TokenRequestError extends Error {
  readonly error: OAuthErrorCode;
  readonly status: 400 | 401;
  constructor(error: OAuthErrorCode, description: string) {
    super(description);
    this.name = 'TokenRequestError';
    this.error = error;
    this.status = error === 'invalid_client' ? 401 : 400;
  }
  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.message };
  }
}

export interface TokenResponse {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  scope: string;
}

/** What signing an access token needs: the hub's key and identity. */
export interface TokenSigner {
  /** The hub's signing key; its `kid` goes in each token's header. */
  signingKey: SigningKey;
  /** The hub's URL: `iss` of every access token. */
  issuer: string;
  /** `aud` of access tokens (default `imaging-connect`). */
  audience?: string;
  /** Access token lifetime (default 300 s). */
  ttlSeconds?: number;
  clock?: Clock;
}

export interface TokenServiceDeps extends TokenSigner {
  registry: ClientRegistry;
  /** The hub's FHIR store, where used assertion `jti`s are recorded. */
  store: FhirStore;
  /** The `aud` client assertions must carry (default `<issuer>/oauth2/token`). */
  tokenUrl?: string;
  clockToleranceSeconds?: number;
}

// Shape only: presence and value checks come after, each with its own OAuth error.
const TokenForm = z.object({
  grant_type: z.string().max(100).optional(),
  client_assertion_type: z.string().max(200).optional(),
  client_assertion: z.string().max(16_384).optional(),
  scope: z.string().max(4_096).optional(),
  client_id: z.string().max(100).optional(),
});

/** `POST /oauth2/token`: checks the request and the client's assertion, and issues an access token. */
export async function issueAccessToken(
  form: URLSearchParams | Record<string, string>,
  deps: TokenServiceDeps,
): Promise<TokenResponse> {
  const request = readTokenForm(form);
  if (!request.grant_type) throw new TokenRequestError('invalid_request', 'grant_type is required');
  if (request.grant_type !== 'client_credentials') {
    throw new TokenRequestError(
      'unsupported_grant_type',
      `grant_type must be client_credentials, not '${request.grant_type}'`,
    );
  }
  if (!request.client_assertion_type)
    throw new TokenRequestError('invalid_request', 'client_assertion_type is required');
  if (request.client_assertion_type !== CLIENT_ASSERTION_TYPE) {
    throw new TokenRequestError('invalid_client', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
  }
  if (!request.client_assertion) throw new TokenRequestError('invalid_request', 'client_assertion is required');

  const now = (deps.clock ?? systemClock).now();
  const { client, jti } = await authenticateClient(request.client_assertion, request.client_id, deps, now);

  const requested = splitScopes(request.scope);
  const { granted, refused } = requested.length
    ? grantScopes(requested, client.scopes)
    : { granted: client.scopes, refused: [] };
  if (granted.length === 0) {
    throw new TokenRequestError('invalid_scope', `Client ${client.id} may not have ${refused.join(' ')}`);
  }

  // Last, so that only a correctly signed assertion gets written: garbage cannot fill the store.
  if (!(await recordAssertionUse(deps.store, client.id, jti, now))) {
    throw new TokenRequestError('invalid_client', 'client_assertion has already been used (jti replay)');
  }
  return signAccessToken(
    {
      sub: client.id,
      client_kind: client.kind,
      scope: granted,
      ...(client.organisation ? { org: client.organisation } : {}),
      ...(client.region ? { region: client.region } : {}),
    },
    deps,
  );
}

function readTokenForm(form: URLSearchParams | Record<string, string>): z.infer<typeof TokenForm> {
  const params = form instanceof URLSearchParams ? form : new URLSearchParams(form);
  const fields: Record<string, string> = {};
  for (const [key, value] of params) {
    // RFC 6749 §3.2: parameters must not be repeated.
    if (key in fields) throw new TokenRequestError('invalid_request', `${key} is given more than once`);
    fields[key] = value;
  }
  const parsed = TokenForm.safeParse(fields);
  if (!parsed.success) {
    throw new TokenRequestError(
      'invalid_request',
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}

const invalidClient = (description: string) => new TokenRequestError('invalid_client', description);

/** The registered client whose correctly signed, fresh, unexpired assertion this is. */
async function authenticateClient(
  assertion: string,
  clientIdParam: string | undefined,
  deps: TokenServiceDeps,
  now: Date,
): Promise<{ client: ClientRegistration; jti: string }> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: JWTPayload;
  try {
    if (assertion.split('.').length !== 3) throw new Error('not a JWS');
    header = decodeProtectedHeader(assertion);
    unverified = decodeJwt(assertion);
  } catch {
    throw invalidClient('client_assertion is not a well-formed signed JWT');
  }
  if (!isSigningAlgorithm(header.alg))
    throw invalidClient(`client_assertion must be signed with ${SIGNING_ALGORITHMS.join(' or ')}`);
  if (!header.kid) throw invalidClient('client_assertion has no kid in its header');
  const { iss, sub } = unverified;
  if (typeof iss !== 'string' || iss !== sub)
    throw invalidClient('client_assertion iss and sub must both be the client id');
  if (clientIdParam !== undefined && clientIdParam !== iss)
    throw invalidClient('client_id does not match the assertion issuer');
  const client = deps.registry.get(iss);
  if (!client) throw invalidClient(`Unknown client '${iss}'`);

  const tokenUrl = deps.tokenUrl ?? tokenEndpointOf(deps.issuer);
  const tolerance = deps.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, deps.registry.keysOf(client.id), {
      algorithms: [...SIGNING_ALGORITHMS],
      issuer: client.id,
      subject: client.id,
      audience: tokenUrl,
      requiredClaims: ['exp', 'jti'],
      currentDate: now,
      clockTolerance: tolerance,
    }));
  } catch (err) {
    throw assertionFailure(err, client.id, header.kid, tokenUrl);
  }
  if ((payload.exp as number) > epochSeconds(now) + MAX_ASSERTION_LIFETIME_SECONDS + tolerance) {
    throw invalidClient(`client_assertion exp must be no more than ${MAX_ASSERTION_LIFETIME_SECONDS} seconds ahead`);
  }
  const jti = payload.jti;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256)
    throw invalidClient('client_assertion jti must be a string of 1-256 characters');
  return { client, jti };
}

function assertionFailure(err: unknown, clientId: string, kid: string, tokenUrl: string): TokenRequestError {
  if (err instanceof errors.JWTExpired) return invalidClient('client_assertion has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return invalidClient(`client_assertion aud must be the token endpoint ${tokenUrl}`);
    if (err.reason === 'missing') return invalidClient(`client_assertion has no ${err.claim}`);
    return invalidClient(`client_assertion ${err.claim} is invalid: ${err.message}`);
  }
  if (err instanceof errors.JWKSNoMatchingKey)
    return invalidClient(`No key '${kid}' is registered for client ${clientId}`);
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return invalidClient(`client_assertion signature does not verify with client ${clientId}'s key '${kid}'`);
  }
  if (err instanceof KeyFetchError)
    return invalidClient(`Cannot fetch the keys of client ${clientId} from its jwks_uri`);
  if (err instanceof errors.JOSEError) return invalidClient(`client_assertion is invalid: ${err.message}`);
  throw err; // not about the assertion: a bug
}

export interface AccessTokenContent {
  sub: string;
  client_kind: ClientKindClaim;
  scope: readonly string[];
  org?: string;
  region?: string;
}

/** Signs an access token with the hub's key. */
export async function signAccessToken(
  content: AccessTokenContent,
  signer: TokenSigner & { audience?: string },
): Promise<TokenResponse> {
  const now = epochSeconds((signer.clock ?? systemClock).now());
  const ttl = signer.ttlSeconds ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS;
  const scope = content.scope.join(' ');
  const claims: Omit<AccessClaims, 'iss' | 'sub' | 'aud' | 'iat' | 'exp' | 'jti'> = {
    scope,
    client_kind: content.client_kind,
    ...(content.org ? { org: content.org } : {}),
    ...(content.region ? { region: content.region } : {}),
  };
  const accessToken = await new SignJWT(claims)
    .setProtectedHeader({ alg: signer.signingKey.alg, kid: signer.signingKey.kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(signer.issuer)
    .setSubject(content.sub)
    .setAudience(signer.audience ?? DEFAULT_ACCESS_TOKEN_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + ttl)
    .setJti(crypto.randomUUID())
    .sign(signer.signingKey.privateKey);
  return { access_token: accessToken, token_type: 'bearer', expires_in: ttl, scope };
}

/**
 * A token for the hub's own calls to gateways (`sub` national-hub, `client_kind` hub), signed with
 * the same key, so gateways verify it like any other.
 */
export function mintServiceToken(
  request: { scope: string | readonly string[]; audience?: string },
  signer: TokenSigner,
): Promise<TokenResponse> {
  const scope = typeof request.scope === 'string' ? splitScopes(request.scope) : request.scope;
  if (scope.length === 0) throw new Error('A service token needs at least one scope');
  return signAccessToken(
    { sub: HUB_CLIENT_ID, client_kind: 'hub', scope },
    request.audience ? { ...signer, audience: request.audience } : signer,
  );
}
