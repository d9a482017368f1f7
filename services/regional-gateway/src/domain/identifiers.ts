import type { Identifier, Resource } from '@medplum/fhirtypes';
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
