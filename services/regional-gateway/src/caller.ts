import type { AccessClaims } from '@imaging/auth';
import { forbidden, OutcomeError } from '@imaging/fhir';
import type { Caller } from './domain/ports.ts';

/**
 * The domain's view of the token's claims. Clients use their own region's gateway; only the hub
 * (delivering messages, fetching results for the locator) comes from outside the region.
 */
export function callerOf(claims: AccessClaims, regionId: string): Caller {
  if (claims.client_kind !== 'hub' && claims.region !== regionId) {
    throw new OutcomeError(
      forbidden(`${claims.sub} belongs to region ${claims.region ?? 'none'}; this gateway serves ${regionId}`),
    );
  }
  return {
    clientId: claims.sub,
    kind: claims.client_kind,
    ...(claims.org ? { organisation: claims.org } : {}),
    ...(claims.region ? { region: claims.region } : {}),
  };
}
