import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { SYSTEMS } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import { hubCaseTrail } from './flow.ts';
import type { HubDomainDeps } from './ports.ts';

/** What one region gave for a case's trail: its `$case-trail` Bundle, or why it could not be read. */
export type RegionTrail = { regionId: string; address: string } & ({ trail: Bundle } | { problem: string });

export interface NationalCaseTrail {
  /** The hub's own AuditEvents about the case. */
  hub: WithId<AuditEvent>[];
  /** Every region the case passed through, as the hub's own records say. */
  regions: RegionTrail[];
}

/**
 * A case's whole trail, across regions: the hub's AuditEvents about it name every region it routed the
 * case's messages between (or that registered its results with the locator); each of those regions'
 * `$case-trail` is read with the hub's own service token, side by side. A region that cannot be read is
 * reported as such, never silently left out. A case the hub never saw (placed and done in one region)
 * has no regions here: its region's own `$case-trail` holds it.
 */
export async function nationalCaseTrail(deps: HubDomainDeps, correlationId: string): Promise<NationalCaseTrail> {
  const hub = await hubCaseTrail(deps.store, correlationId);
  const regionIds = [...new Set(hub.flatMap(regionsNamedBy))].sort();
  const regions = await Promise.all(
    regionIds.map(async (regionId): Promise<RegionTrail> => {
      const region = await deps.directory.findRegion(regionId);
      if (!region) return { regionId, address: '', problem: 'not in the directory' };
      const url = `${region.address}/$case-trail?correlation-id=${encodeURIComponent(correlationId)}`;
      const result = await deps.regions.call<Bundle>(url, { method: 'GET' });
      const base = { regionId, address: region.address };
      if (!result.answered) return { ...base, problem: `could not be reached (${result.reason})` };
      if (!result.ok) return { ...base, problem: `answered ${result.status}: ${result.text}` };
      return { ...base, trail: result.body };
    }),
  );
  return { hub, regions };
}

/** The regions an AuditEvent's agents stand for (a gateway that sent, a region routed to). */
function regionsNamedBy(event: AuditEvent): string[] {
  return (event.agent ?? []).flatMap((a) =>
    a.who?.identifier?.system === SYSTEMS.region && a.who.identifier.value ? [a.who.identifier.value] : [],
  );
}
