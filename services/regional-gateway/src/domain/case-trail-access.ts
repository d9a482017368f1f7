import type { Resource } from '@medplum/fhirtypes';
import { caseReaders } from '@imaging/fhir';
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

/**
 * Whether this token may read the whole trail of any case here (and so each AuditEvent by its id): an
 * observer, or an auditor, national or of this region.
 */
export function mayReadAnyTrail(reader: TrailReader, region: RegionIdentity): boolean {
  const { caller } = reader;
  return reader.observer || (reader.auditor && (caller.region === region.regionId || caller.region === undefined));
}

/**
 * Whether this token may ask for trails here at all: one that may read any, or a client of this region
 * acting for an organisation. It depends on the token only, never on the case, so refusing the rest (403)
 * tells them nothing about any case.
 */
export function mayAskForTrails(reader: TrailReader, region: RegionIdentity): boolean {
  const { caller } = reader;
  return mayReadAnyTrail(reader, region) || (caller.region === region.regionId && !!caller.organisation);
}

export async function readCaseTrail(
  deps: { store: FhirStore; region: RegionIdentity },
  reader: TrailReader,
  correlationId: string,
): Promise<WithId<Resource>[]> {
  const { caller } = reader;
  if (!mayAskForTrails(reader, deps.region)) return [];
  const trail = await caseTrail(deps.store, correlationId);
  if (mayReadAnyTrail(reader, deps.region)) return trail;
  return caseReaders(trail).has(caller.organisation as string) ? trail : [];
}
