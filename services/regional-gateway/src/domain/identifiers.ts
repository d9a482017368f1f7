import type { Identifier, Resource } from '@medplum/fhirtypes';
import { createHash } from 'node:crypto';
import { DICOM_UID_SYSTEM, NHS_NUMBER_SYSTEM, SYSTEMS } from '@imaging/fhir';

/** The business identifier system each shared resource type is matched on, across regions. */
const BUSINESS_SYSTEM: Partial<Record<Resource['resourceType'], string>> = {
  Patient: NHS_NUMBER_SYSTEM,
  ServiceRequest: SYSTEMS.placerOrder,
  Task: SYSTEMS.task,
  DiagnosticReport: SYSTEMS.report,
  ImagingStudy: DICOM_UID_SYSTEM,
};

export function businessIdentifier(resource: Resource): Identifier | undefined {
  const system = BUSINESS_SYSTEM[resource.resourceType];
  const identifiers = (resource as { identifier?: Identifier[] }).identifier;
  if (system) return identifiers?.find((i) => i.system === system && i.value);
  // An Endpoint is matched on whatever identifier it carries.
  return identifiers?.find((i) => i.system && i.value);
}

/** `identifier=system|value`, for a conditional create or a search. */
export function identifierQuery(identifier: Identifier): string {
  return `identifier=${encodeURIComponent(`${identifier.system}|${identifier.value}`)}`;
}

/**
 * A deterministic request id for one business event (e.g. "this task reached in-progress"), so that a
 * retried request, a replayed message or a second replica doing the same work all produce the same
 * `X-Request-ID`, and every receiver recognises the repeat.
 */
export function requestIdFor(...parts: string[]): string {
  return `req-${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32)}`;
}
