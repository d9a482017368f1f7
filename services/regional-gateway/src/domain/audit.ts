import type {
  AuditEvent,
  AuditEventAgent,
  AuditEventEntity,
  BundleEntry,
  Device,
  Identifier,
  Reference,
} from '@medplum/fhirtypes';
import { CODE_SYSTEMS, odsReference, SYSTEMS, token } from '@imaging/fhir';
import type { Caller } from '@imaging/fhir';
import type { RegionIdentity } from './ports.ts';

/**
 * The gateway's audit trail: one AuditEvent per state change, stored in the same transaction as the
 * change, so the trail holds exactly what happened; and one per disclosure (a read, a search, a case's
 * trail), stored in the background (disclosures.ts). AuditEvents are only ever created, never updated,
 * and no client can write one. Generic on purpose (who, what, which case, outcome): every state change
 * and every disclosure uses this one builder. Its output is not run through the validator on each write
 * (deps.ts trusts AuditEvents); audit.test.ts proves it valid R4 for every kind of record instead.
 */

/** Who made the change: a client of this gateway, another region's service (by a routed message), or this gateway's own job. */
export type AuditActor = { caller: Caller } | { service: string } | 'system';

export interface AuditRecord {
  /** What happened, as a code of CODE_SYSTEMS.auditSubtype (e.g. alert-escalated). */
  subtype: string;
  /** The subtype in words. */
  description: string;
  /** C create, R read, U update, D delete, E execute (FHIR audit-event-action). */
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  who: AuditActor;
  /** The resources changed: literal references, or `urn:uuid:` ones within the same transaction. */
  what: Reference[];
  /** The patient (or, for a search, each patient) the change or the disclosure is about. */
  patient?: Reference | readonly Reference[];
  /** The case (X-Correlation-ID). */
  correlationId: string;
  /** A search's query as the caller sent it (`Type?params`), kept as the record of what was asked. */
  query?: string;
  /**
   * The business identifier of what a conditional create creates: the event is then stored only when no
   * event of its subtype names it already, so a replayed create (which stores nothing) records nothing.
   */
  once?: Identifier;
  /** HTTP-style status of the change; below 400 is success. Default 200. */
  outcome?: { status: number; text?: string };
  /** Facts worth keeping with the event (a ladder step, a recipient), as name/value pairs. */
  detail?: Record<string, string>;
  recorded: Date;
}

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
/** The role of an entity that is the patient: written by auditEvent, read back when an AuditEvent is disclosed. */
const PATIENT_ROLE = { system: OBJECT_ROLE, code: '1', display: 'Patient' };
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';

/** The patients an AuditEvent of ours names (`Patient/id`): its entities in the patient role. */
export function patientsNamedBy(event: AuditEvent): string[] {
  return (event.entity ?? []).flatMap((e) =>
    e.role?.system === PATIENT_ROLE.system && e.role.code === PATIENT_ROLE.code && e.what?.reference
      ? [e.what.reference]
      : [],
  );
}

export function auditEvent(region: RegionIdentity, record: AuditRecord): AuditEvent {
  const status = record.outcome?.status ?? 200;
  const observer: Reference<Device> = {
    identifier: { system: SYSTEMS.serviceId, value: region.serviceId },
    display: `Regional gateway ${region.serviceId}`,
  };
  const patients = record.patient ? [record.patient].flat() : [];
  const entity: AuditEventEntity[] = [
    ...patients.map(
      (what): AuditEventEntity => ({
        what,
        type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
        role: PATIENT_ROLE,
      }),
    ),
    ...record.what.map(
      (what, i): AuditEventEntity => ({
        what,
        type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
        role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
        ...(i === 0 && record.detail
          ? { detail: Object.entries(record.detail).map(([type, valueString]) => ({ type, valueString })) }
          : {}),
      }),
    ),
    {
      what: { identifier: { system: SYSTEMS.correlation, value: record.correlationId } },
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      description: 'The case (X-Correlation-ID)',
      detail: [{ type: 'X-Correlation-ID', valueString: record.correlationId }],
    },
    ...(record.once
      ? [
          {
            what: { identifier: record.once },
            type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
            description: 'What the change created, by its business identifier',
          },
        ]
      : []),
    ...(record.query !== undefined
      ? [
          {
            type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
            role: { system: OBJECT_ROLE, code: '24', display: 'Query' },
            query: Buffer.from(record.query).toString('base64'),
          },
        ]
      : []),
  ];
  return {
    resourceType: 'AuditEvent',
    type:
      typeof record.who === 'object' && 'caller' in record.who
        ? { system: EVENT_TYPE, code: 'rest', display: 'RESTful Operation' }
        : { system: DCM, code: '110100', display: 'Application Activity' },
    subtype: [{ system: CODE_SYSTEMS.auditSubtype, code: record.subtype, display: record.description }],
    action: record.action,
    recorded: record.recorded.toISOString(),
    outcome: status < 400 ? '0' : status >= 500 ? '8' : '4',
    outcomeDesc: record.outcome?.text ?? (status < 400 ? `${status} OK` : `${status}`),
    agent: [agentOf(record.who, observer, region)],
    source: { observer, type: [{ system: SOURCE_TYPE, code: '4', display: 'Application Server' }] },
    entity,
  };
}

/**
 * The transaction entry that stores an AuditEvent beside the change it records; conditional on
 * `record.once`, so it is stored exactly when the conditional create it records creates something.
 */
export function auditEntry(region: RegionIdentity, record: AuditRecord): BundleEntry {
  const { once } = record;
  const query = once ? recordOfCreation(record.subtype, once) : undefined;
  return {
    resource: auditEvent(region, record),
    request: {
      method: 'POST',
      url: 'AuditEvent',
      ...(query
        ? {
            ifNoneExist: Object.entries(query)
              .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
              .join('&'),
          }
        : {}),
    },
  };
}

/** The search for the AuditEvent that recorded creating what `once` identifies (`record.once`), by subtype. */
export function recordOfCreation(subtype: string, once: Identifier): Record<string, string> {
  return {
    subtype: `${CODE_SYSTEMS.auditSubtype}|${subtype}`,
    'entity:identifier': token(once.system ?? '', once.value ?? ''),
  };
}

function agentOf(who: AuditActor, observer: Reference<Device>, region: RegionIdentity): AuditEventAgent {
  if (who === 'system') return { who: observer, name: `gateway ${region.regionId}`, requestor: true };
  if ('service' in who) {
    return {
      who: { type: 'Device', identifier: { system: SYSTEMS.serviceId, value: who.service }, display: who.service },
      name: who.service,
      requestor: true,
    };
  }
  const { caller } = who;
  // An organisation's client is recorded as that organisation; the client id says which system it was.
  return {
    ...(caller.organisation ? { who: odsReference(caller.organisation) } : {}),
    altId: caller.clientId,
    name: caller.region ? `${caller.clientId} (region ${caller.region})` : caller.clientId,
    requestor: true,
  };
}
