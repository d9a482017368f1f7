import type { Caller } from '@imaging/fhir';
import { forbidden, OutcomeError } from '@imaging/fhir';

/**
 * Clients use their own region's gateway; only the hub (delivering messages, fetching results for
 * the locator) comes from outside the region.
 */
export function assertInRegion(caller: Caller, regionId: string): Caller {
  if (caller.kind !== 'hub' && caller.region !== regionId) {
    throw new OutcomeError(
      forbidden(`${caller.clientId} belongs to region ${caller.region ?? 'none'}; this gateway serves ${regionId}`),
    );
  }
  return caller;
}
