import type { Resource } from '@medplum/fhirtypes';
import { caseOrganisations } from '@imaging/fhir';
import type { Caller, FhirStore, WithId } from '@imaging/fhir';
import { caseTrail } from './flow.ts';
import type { RegionIdentity } from './ports.ts';

/**
 * Who may read a case's trail here (`$case-trail`), and the trail they get. The whole trail of any case:
 * a national observer (the flow view, scope `flow/case`), or an auditor (scope `system/AuditEvent.rs`),
 * national or of this region, the hub's own calls included. Otherwise, the trail of its own case only: a
 * client of this region whose organisation is the requester or the performer of the case's order, as the
 * stored order says. Anyone else gets what an unknown case gets, an empty trail: whether the case exists
 * is not disclosed.
 */
export interface TrailReader {
  caller: Caller;
  /** The token holds `flow/case`. */
  observer: boolean;
  /** The token allows reading and searching AuditEvents. */
  auditor: boolean;
}

export async function readCaseTrail(
  deps: { store: FhirStore; region: RegionIdentity },
  reader: TrailReader,
  correlationId: string,
): Promise<WithId<Resource>[]> {
  const { caller } = reader;
  const inRegion = caller.region === deps.region.regionId;
  const national = caller.region === undefined;
  // A client of another region is refused before any work, as a stranger is after it: the same answer.
  if (!reader.observer && !(reader.auditor && (national || inRegion)) && !(inRegion && caller.organisation)) return [];
  const trail = await caseTrail(deps.store, correlationId);
  if (reader.observer || reader.auditor) return trail;
  return caseOrganisations(trail).has(caller.organisation as string) ? trail : [];
}
