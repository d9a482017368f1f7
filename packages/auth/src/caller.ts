import type { Caller } from '@imaging/fhir';
import type { AccessClaims } from './claims.ts';

/** The caller as domain code sees it, from a verified access token's claims (and nothing else). */
export function callerOf(claims: AccessClaims): Caller {
  return {
    clientId: claims.sub,
    kind: claims.client_kind,
    ...(claims.org ? { organisation: claims.org } : {}),
    ...(claims.region ? { region: claims.region } : {}),
  };
}
