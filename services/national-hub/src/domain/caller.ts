import type { AccessClaims, ClientKindClaim } from '@imaging/auth';
import { forbidden, OutcomeError } from '@imaging/fhir';

/** The authenticated caller, as the hub's domain sees it (from the access token's claims). */
export interface Caller {
  clientId: string;
  kind: ClientKindClaim;
  /** The ODS code the client acts for (absent for gateways). */
  organisation?: string;
  region?: string;
}

export function callerOf(claims: AccessClaims): Caller {
  return {
    clientId: claims.sub,
    kind: claims.client_kind,
    ...(claims.org ? { organisation: claims.org } : {}),
    ...(claims.region ? { region: claims.region } : {}),
  };
}

/** 403 unless the caller is one of these kinds of client (routing and pointer registration are for gateways). */
export function assertKind(caller: Caller, kinds: readonly ClientKindClaim[], what: string): void {
  if (!kinds.includes(caller.kind)) {
    throw new OutcomeError(
      forbidden(`Only ${kinds.join(' or ')} clients may ${what}; ${caller.clientId} is a ${caller.kind}`),
    );
  }
}

/** The caller's region; a 403 when its token names none. */
export function regionOf(caller: Caller): string {
  if (!caller.region) throw new OutcomeError(forbidden(`${caller.clientId} belongs to no region`));
  return caller.region;
}
