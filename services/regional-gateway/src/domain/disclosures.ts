import type { AuditEvent, Reference, Resource } from '@medplum/fhirtypes';
import type { Caller } from '@imaging/fhir';
import { auditEvent, patientsNamedBy } from './audit.ts';
import type { RegionIdentity } from './ports.ts';

/**
 * The record of a disclosure: one AuditEvent per request that returned patient data to a client (a read,
 * a search page, a case's trail), naming who asked (client id and organisation), the patients, every
 * resource returned (by versioned reference, so what was seen can be read again), the query and the case.
 * A request that returned nothing about a patient (an Endpoint, an empty page) discloses nothing.
 *
 * These are not stored in the request's own transaction (a read has none): the HTTP layer hands them to a
 * background writer (deps.disclosures), so a read never waits for a commit.
 */

export type DisclosureKind = 'read' | 'search' | 'case-trail';

const KIND: Record<DisclosureKind, { subtype: string; description: string; action: 'R' | 'E' }> = {
  read: { subtype: 'resource-read', description: 'A resource read by a client', action: 'R' },
  search: { subtype: 'resources-searched', description: 'Resources found by a client’s search', action: 'E' },
  'case-trail': { subtype: 'case-trail-disclosed', description: 'A case’s trail read', action: 'E' },
};

export interface Disclosure {
  caller: Caller;
  kind: DisclosureKind;
  resources: readonly Resource[];
  /** What was asked, as sent (`Patient?identifier=…`, `$case-trail?correlation-id=…`). */
  query?: string;
  /** The request's X-Correlation-ID, or the case whose trail was read. */
  correlationId: string;
  recorded: Date;
}

/** The AuditEvent of a disclosure, or undefined when nothing returned was about a patient. */
export function disclosureAudit(region: RegionIdentity, disclosure: Disclosure): AuditEvent | undefined {
  // A trail's AuditEvents are its own record, and its reading names the case; an AuditEvent read by its id is
  // disclosed as any resource is.
  const shown = disclosure.resources.filter(
    (r) => r.id && (disclosure.kind !== 'case-trail' || r.resourceType !== 'AuditEvent'),
  );
  const patients = [...new Set(shown.flatMap(patientOf))];
  if (patients.length === 0) return undefined;
  const latest = new Map<string, Resource>();
  // A trail holds every version: the disclosure names each resource once, at the latest version shown.
  for (const r of shown) latest.set(`${r.resourceType}/${r.id}`, r);
  const kind = KIND[disclosure.kind];
  return auditEvent(region, {
    ...kind,
    who: { caller: disclosure.caller },
    what: [...latest].map(
      ([ref, r]): Reference => ({
        reference: r.meta?.versionId ? `${ref}/_history/${r.meta.versionId}` : ref,
      }),
    ),
    patient: patients.map((reference) => ({ reference })),
    correlationId: disclosure.correlationId,
    ...(disclosure.query !== undefined ? { query: disclosure.query } : {}),
    detail: { returned: String(latest.size) },
    recorded: disclosure.recorded,
  });
}

/** The patient a resource is about (`Patient/id`), if any; for an AuditEvent, the patients it names. */
function patientOf(resource: Resource): string[] {
  if (resource.resourceType === 'Patient') return [`Patient/${resource.id}`];
  if (resource.resourceType === 'AuditEvent') return patientsNamedBy(resource);
  const about = (resource as { subject?: Reference; for?: Reference }).subject ?? (resource as { for?: Reference }).for;
  return about?.reference?.startsWith('Patient/') ? [about.reference] : [];
}
