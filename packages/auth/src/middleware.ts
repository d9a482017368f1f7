import { forbidden, OutcomeError, toOutcomeError, unauthorized } from '@imaging/fhir';
import { fhirResponse } from '@imaging/fhir-http';
import type { MiddlewareHandler } from 'hono';
import type { AccessClaims } from './claims.ts';
import type { Interaction } from './scopes.ts';
import { hasCustomScope, hasScope, scopeNeeded } from './scopes.ts';
import type { AccessTokenVerifier } from './verifier.ts';

/** Hono variables set by `requireAuth`. */
export interface AuthVariables {
  auth: AccessClaims;
}
export interface AuthEnv {
  Variables: AuthVariables;
}

const REALM = 'imaging-connect';
// RFC 6750 §2.1: "Bearer" (any case), one space, a token68.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** The bearer token of an `Authorization` header; a 401 OutcomeError when missing or malformed. */
export function bearerTokenOf(header: string | undefined): string {
  if (!header) throw new OutcomeError(unauthorized('Missing Authorization: Bearer access token'));
  const m = BEARER.exec(header.trim());
  if (!m) throw new OutcomeError(unauthorized('Authorization must be "Bearer <access token>"'));
  return m[1] as string;
}

/**
 * Lets a request through only with a valid access token, and sets `c.var.auth` to its claims.
 * Otherwise 401 with an OperationOutcome (code `login`) and `WWW-Authenticate: Bearer
 * error="invalid_token"` (RFC 6750 §3); 503 when the hub's keys cannot be fetched.
 */
export function requireAuth(verifier: AccessTokenVerifier): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    let claims: AccessClaims;
    try {
      claims = await verifier.verify(bearerTokenOf(c.req.header('Authorization')));
    } catch (err) {
      const failure = toOutcomeError(err);
      if (failure.status !== 401) throw err;
      return fhirResponse(failure.outcome, 401, {
        'WWW-Authenticate': bearerChallenge({ error: 'invalid_token', error_description: failure.message }),
      });
    }
    c.set('auth', claims);
    await next();
  };
}

/** 403 unless the token allows `interaction` on `resourceType` (SMART v1 or v2 system scopes). */
export function requireScope(resourceType: string, interaction: Interaction): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    if (!hasScope(authOf(c.var), resourceType, interaction))
      return insufficientScope(scopeNeeded(resourceType, interaction), interaction, resourceType);
    await next();
  };
}

/** 403 unless the token holds exactly this custom scope (`hub/route`). */
export function requireCustomScope(scope: string): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    if (!hasCustomScope(authOf(c.var), scope)) return insufficientScope(scope);
    await next();
  };
}

/** For handlers that learn the resource type late (a transaction entry): throws a 403 OutcomeError. */
export function assertScope(claims: AccessClaims, resourceType: string, interaction: Interaction): void {
  if (!hasScope(claims, resourceType, interaction)) {
    throw new OutcomeError(forbidden(forbiddenText(scopeNeeded(resourceType, interaction), interaction, resourceType)));
  }
}

/**
 * A search's reach beyond its own type: each type it includes must be readable, and each chain's target
 * searchable, with this token (403 otherwise), rather than answered with what the token may not see.
 */
export function assertSearchReach(
  claims: AccessClaims,
  search: { includedTypes: readonly string[]; chains: readonly { target: string }[] },
): void {
  for (const included of search.includedTypes) assertScope(claims, included, 'read');
  for (const chain of search.chains) assertScope(claims, chain.target, 'search');
}

export function assertCustomScope(claims: AccessClaims, scope: string): void {
  if (!hasCustomScope(claims, scope)) throw new OutcomeError(forbidden(forbiddenText(scope)));
}

function authOf(vars: Partial<AuthVariables>): AccessClaims {
  // A scope check mounted without requireAuth in front of it is a wiring bug, not a client error.
  if (!vars.auth) throw new Error('requireScope used without requireAuth before it');
  return vars.auth;
}

function forbiddenText(scope: string, interaction?: Interaction, resourceType?: string): string {
  return interaction && resourceType
    ? `The access token does not allow ${interaction} on ${resourceType}: it needs scope ${scope} (or wider)`
    : `The access token does not hold scope ${scope}`;
}

function insufficientScope(scope: string, interaction?: Interaction, resourceType?: string): Response {
  return fhirResponse(forbidden(forbiddenText(scope, interaction, resourceType)), 403, {
    'WWW-Authenticate': bearerChallenge({ error: 'insufficient_scope', scope }),
  });
}

function bearerChallenge(params: Record<string, string>): string {
  const quoted = Object.entries(params).map(([k, v]) => `${k}="${v.replace(/["\\]/g, "'")}"`);
  return `Bearer ${[`realm="${REALM}"`, ...quoted].join(', ')}`;
}
