import { builtFromValidated, CODE_SYSTEMS, NHS_NUMBER_SYSTEM, SYSTEMS } from '@imaging/fhir';
import type { FhirStore, WithId } from '@imaging/fhir';
import { odsReference } from '@imaging/fhir';
import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding, Reference } from '@medplum/fhirtypes';
import type { Caller } from '@imaging/fhir';
import { regionReference } from './directory.ts';

/**
 * The hub's audit trail. Every cross-region disclosure (a routed message, pointers shown, content
 * fetched, a case's trail read across regions, one of these AuditEvents read) and every pointer registered writes one AuditEvent, success or failure, so who saw what of
 * whom, from where, can be reconstructed. AuditEvents are only ever created, never updated.
 */

export type AuditSubtype =
  | 'message-routed'
  | 'pointer-registered'
  | 'pointers-disclosed'
  | 'content-retrieved'
  | 'case-trail-disclosed'
  | 'audit-event-read';

const SUBTYPE_DISPLAY: Record<AuditSubtype, string> = {
  'message-routed': 'Message routed between regions',
  'pointer-registered': 'Locator pointer registered',
  'pointers-disclosed': 'Locator pointers disclosed',
  'content-retrieved': 'Content retrieved from its source region',
  'case-trail-disclosed': "A case's trail across regions read",
  'audit-event-read': 'An AuditEvent of the hub read by its id',
};

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
/** The role of an entity that is the patient: written by auditEvent, read back when an AuditEvent is disclosed. */
const PATIENT_ROLE = { system: OBJECT_ROLE, code: '1', display: 'Patient' };
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';

/** A party to a disclosure: a calling client, a region known by its id, the locator, or the hub as a whole. */
export type Party = { caller: Caller } | { regionId: string; regionName?: string } | { locator: true } | { hub: true };

export interface AuditOutcome {
  /** HTTP status of the result; below 400 is success. */
  status: number;
  text?: string;
}

export interface AuditInput {
  subtype: AuditSubtype;
  action: 'C' | 'R' | 'E';
  /** Where the data comes from. */
  from: Party;
  /** Who receives it. */
  to: Party;
  /** Which of the two asked. */
  requestor: 'from' | 'to';
  nhsNumbers: readonly string[];
  /** The data disclosed: business identifiers or references of what was sent or shown. */
  data: { what: Reference; detail?: Record<string, string> }[];
  requestId: string;
  correlationId: string;
  /** The query behind a search, kept as the audit record of what was asked. */
  query?: string;
  outcome: AuditOutcome;
  recorded: Date;
  /** The hub's own URL, recorded as the observer. */
  observer: string;
}

export function auditEvent(input: AuditInput): AuditEvent {
  const agent: AuditEventAgent[] = [
    agentFor(input.from, { system: DCM, code: '110153', display: 'Source Role ID' }, input.requestor === 'from'),
    agentFor(input.to, { system: DCM, code: '110152', display: 'Destination Role ID' }, input.requestor === 'to'),
  ];
  const entity: AuditEventEntity[] = [
    ...[...new Set(input.nhsNumbers)].map(
      (nhs): AuditEventEntity => ({
        what: { type: 'Patient', identifier: { system: NHS_NUMBER_SYSTEM, value: nhs } },
        type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
        role: PATIENT_ROLE,
      }),
    ),
    ...input.data.map(
      (d): AuditEventEntity => ({
        what: d.what,
        type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
        role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
        ...(d.detail ? { detail: Object.entries(d.detail).map(([type, valueString]) => ({ type, valueString })) } : {}),
      }),
    ),
    {
      what: { identifier: { system: SYSTEMS.messageRequest, value: input.requestId } },
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      description: 'The request (X-Request-ID)',
      detail: [{ type: 'X-Request-ID', valueString: input.requestId }],
    },
    {
      what: { identifier: { system: SYSTEMS.correlation, value: input.correlationId } },
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      description: 'The case (X-Correlation-ID)',
      detail: [{ type: 'X-Correlation-ID', valueString: input.correlationId }],
    },
  ];
  if (input.query !== undefined) {
    entity.push({
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '24', display: 'Query' },
      query: Buffer.from(input.query).toString('base64'),
    });
  }
  const ok = input.outcome.status < 400;
  return {
    resourceType: 'AuditEvent',
    // DICOM "Export": data leaves its region (or the locator) for another party.
    type: { system: DCM, code: '110106', display: 'Export' },
    subtype: [{ system: CODE_SYSTEMS.auditSubtype, code: input.subtype, display: SUBTYPE_DISPLAY[input.subtype] }],
    action: input.action,
    recorded: input.recorded.toISOString(),
    outcome: ok ? '0' : input.outcome.status >= 500 ? '8' : '4',
    outcomeDesc: storableText(input.outcome.text) ?? (ok ? `${input.outcome.status} OK` : `${input.outcome.status}`),
    agent,
    source: {
      observer: { display: `National hub ${input.observer}` },
      type: [{ system: SOURCE_TYPE, code: '4', display: 'Application Server' }],
    },
    entity,
  };
}

function agentFor(party: Party, role: Coding, requestor: boolean): AuditEventAgent {
  if ('caller' in party) {
    const { caller } = party;
    // An organisation's client is recorded as that organisation (its region follows from the directory).
    const who = caller.organisation
      ? odsReference(caller.organisation)
      : caller.region
        ? regionReference(caller.region)
        : undefined;
    return {
      type: { coding: [role] },
      ...(who ? { who } : {}),
      altId: caller.clientId,
      name: caller.region ? `${caller.clientId} (region ${caller.region})` : caller.clientId,
      requestor,
    };
  }
  if ('locator' in party) return { type: { coding: [role] }, name: 'national imaging record locator', requestor };
  if ('hub' in party) return { type: { coding: [role] }, name: 'national hub', requestor };
  return {
    type: { coding: [role] },
    who: regionReference(party.regionId, party.regionName),
    name: `region ${party.regionId}`,
    requestor,
  };
}

/** The longest outcome text kept: enough to say why, far below what one FHIR string may hold (1 MB). */
const OUTCOME_TEXT_MAX = 4000;

/**
 * An outcome's text as an R4 string can hold it: it may quote another service's answer, which nothing
 * has validated. Control characters (bar tab and line breaks) become spaces, a lone surrogate U+FFFD,
 * and a very long text is cut; text that is only white space is none.
 */
function storableText(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const cut = text.length > OUTCOME_TEXT_MAX ? `${text.slice(0, OUTCOME_TEXT_MAX - 1)}…` : text;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters R4 strings may not hold
  const clean = cut.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, ' ').toWellFormed();
  return clean.trim() ? clean : undefined;
}

/**
 * Writes an AuditEvent. `fromValidated`: every part of `input` comes from what the hub has validated (a
 * parsed message, routing headers, its own directory, the caller's token) or from the hub itself, bar the
 * outcome's text, which auditEvent makes storable; the event is then stored without being validated
 * again. The tests' stores validate it all the same, which proves auditEvent's output valid.
 */
/** The NHS numbers an AuditEvent of the hub names: its entities in the patient role. */
export function nhsNumbersNamedBy(event: AuditEvent): string[] {
  return (event.entity ?? []).flatMap((e) =>
    e.role?.system === PATIENT_ROLE.system &&
    e.role.code === PATIENT_ROLE.code &&
    e.what?.identifier?.system === NHS_NUMBER_SYSTEM
      ? [e.what.identifier.value as string]
      : [],
  );
}

export async function recordAudit(
  store: FhirStore,
  input: AuditInput,
  options: { fromValidated?: boolean } = {},
): Promise<WithId<AuditEvent>> {
  const event = auditEvent(input);
  return (await store.create(options.fromValidated ? builtFromValidated(event) : event)).resource;
}
