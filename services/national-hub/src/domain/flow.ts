import type { AuditEvent, AuditEventAgent } from '@medplum/fhirtypes';
import { CODE_SYSTEMS, searchAll, SYSTEMS, token } from '@imaging/fhir';
import type { FhirStore, StoreChange, WithId } from '@imaging/fhir';
import type { RoutedEvent } from '@imaging/messaging';
import { HUB_SERVICE } from '@imaging/messaging';

/**
 * What the hub tells the flow view: each AuditEvent it writes (a routed message, a registered pointer, a
 * disclosure) as an event on its feed, without the patient's identifiers; and a case's audit trail.
 */

const SOURCE_ROLE = '110153';
const DESTINATION_ROLE = '110152';

/** The feed's event for a stored AuditEvent of the hub's; undefined for anything else. */
export function routedEventOf(change: StoreChange): RoutedEvent | undefined {
  const audit = change.resource;
  if (change.action !== 'create' || audit.resourceType !== 'AuditEvent') return undefined;
  const subtype = audit.subtype?.find((c) => c.system === CODE_SYSTEMS.auditSubtype)?.code;
  if (!subtype) return undefined;
  const identified = (system: string) =>
    audit.entity?.find((e) => e.what?.identifier?.system === system)?.what?.identifier?.value;
  const event = audit.entity
    ?.flatMap((e) => e.detail ?? [])
    .find((d) => d.type === 'event')
    ?.valueString?.split('|')
    .at(-1);
  const fromRegion = regionOf(audit.agent, SOURCE_ROLE);
  const toRegion = regionOf(audit.agent, DESTINATION_ROLE);
  const requestId = identified(SYSTEMS.messageRequest);
  const correlationId = identified(SYSTEMS.correlation);
  return {
    type: 'routed',
    service: HUB_SERVICE,
    at: audit.recorded,
    subtype,
    ...(fromRegion ? { fromRegion } : {}),
    ...(toRegion ? { toRegion } : {}),
    ...(event ? { event } : {}),
    ...(requestId ? { requestId } : {}),
    ...(correlationId ? { correlationId } : {}),
    result: audit.outcome === '0' ? 'ok' : audit.outcome === '4' ? 'refused' : 'failed',
    ...(audit.outcomeDesc ? { detail: audit.outcomeDesc.slice(0, 200) } : {}),
  };
}

/** The region an agent in this role stands for, when it is one (a gateway, or a region routed to). */
function regionOf(agents: AuditEventAgent[] | undefined, role: string): string | undefined {
  const agent = agents?.find((a) => a.type?.coding?.some((c) => c.code === role));
  const id = agent?.who?.identifier;
  return id?.system === SYSTEMS.region ? id.value : undefined;
}

/** The hub's audit trail of one case (X-Correlation-ID), oldest first. */
export async function hubCaseTrail(store: FhirStore, correlationId: string): Promise<WithId<AuditEvent>[]> {
  const events = await searchAll<AuditEvent>(store, 'AuditEvent', {
    'entity:identifier': token(SYSTEMS.correlation, correlationId),
  });
  return events.sort((a, b) => Date.parse(a.recorded) - Date.parse(b.recorded));
}
