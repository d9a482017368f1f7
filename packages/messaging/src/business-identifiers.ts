import type { Identifier, Resource } from '@medplum/fhirtypes';
import { DICOM_UID_SYSTEM, NHS_NUMBER_SYSTEM, ODS_SYSTEM, SYSTEMS } from '@imaging/fhir';

/**
 * The identifier systems the pathway keys records on: a conditional create, a duplicate check or a
 * lookup finds a resource by any one of them, and the store indexes every identifier a resource carries.
 */
export const BUSINESS_IDENTIFIER_SYSTEMS: ReadonlySet<string> = new Set<string>([
  NHS_NUMBER_SYSTEM,
  ODS_SYSTEM,
  DICOM_UID_SYSTEM,
  ...Object.values(SYSTEMS),
]);

/** A second identifier a resource may not carry: where it is (`identifier[index]`) and why. */
export interface RepeatedIdentifier {
  index: number;
  text: string;
}

/**
 * A resource carries at most one identifier in each business system. Checks look at one (the first), but
 * the store finds the resource by every one it carries: a second would be stored unchecked, and would take
 * that identifier from the record it belongs to (the first writer wins every later match). An Endpoint is
 * matched on whatever identifier it carries, so it carries at most one of any system.
 * Returns each identifier after the first of its system (of any system, for an Endpoint).
 */
export function repeatedBusinessIdentifiers(resource: Resource): RepeatedIdentifier[] {
  const identifiers = (resource as { identifier?: unknown }).identifier;
  if (!Array.isArray(identifiers)) return [];
  const endpoint = resource.resourceType === 'Endpoint';
  const seen = new Set<string>();
  const repeated: RepeatedIdentifier[] = [];
  (identifiers as Identifier[]).forEach((identifier, index) => {
    const system = identifier?.system;
    if (typeof system !== 'string' || !identifier.value) return;
    if (!endpoint && !BUSINESS_IDENTIFIER_SYSTEMS.has(system)) return;
    const key = endpoint ? '' : system;
    if (seen.has(key)) {
      repeated.push({
        index,
        text: endpoint
          ? `An Endpoint is matched on its identifier, so it carries one: ${system}|${identifier.value} is another`
          : `A ${resource.resourceType} carries one identifier in ${system}: ${identifier.value} is a second`,
      });
    }
    seen.add(key);
  });
  return repeated;
}
