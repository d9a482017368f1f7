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

/** An identifier a resource may not carry: where it is (`identifier[index]`) and why. */
export interface IdentifierProblem {
  index: number;
  text: string;
}

/**
 * Characters a FHIR search reads as syntax in a token value (R4 search.html#escaping): `,` ORs two values,
 * `|` parts system from code, `$` composes, `\` escapes. A business identifier holding one would, looked up
 * by the conditional create or a lookup, match another record too (`N81002-9,N81001-000123`).
 */
const SEARCH_SYNTAX = /[,|$\\]/;

/**
 * What is wrong with a resource's identifiers in the business systems the pathway keys on, each at its index:
 * - a second identifier in one system (any second identifier, for an Endpoint): checks look at one (the
 *   first), but the store finds the resource by every one it carries, so a second would be stored unchecked
 *   and take that identifier from the record it belongs to (the first writer wins every later match);
 * - a value holding search syntax (`SEARCH_SYNTAX`), which a lookup by it would read as several values.
 */
export function businessIdentifierProblems(resource: Resource): IdentifierProblem[] {
  const identifiers = (resource as { identifier?: unknown }).identifier;
  if (!Array.isArray(identifiers)) return [];
  const endpoint = resource.resourceType === 'Endpoint';
  const seen = new Set<string>();
  const problems: IdentifierProblem[] = [];
  (identifiers as Identifier[]).forEach((identifier, index) => {
    const system = identifier?.system;
    if (typeof system !== 'string' || !identifier.value) return;
    if (!endpoint && !BUSINESS_IDENTIFIER_SYSTEMS.has(system)) return;
    const key = endpoint ? '' : system;
    if (seen.has(key)) {
      problems.push({
        index,
        text: endpoint
          ? `An Endpoint is matched on its identifier, so it carries one: ${system}|${identifier.value} is another`
          : `A ${resource.resourceType} carries one identifier in ${system}: ${identifier.value} is a second`,
      });
    } else if (SEARCH_SYNTAX.test(identifier.value)) {
      problems.push({
        index,
        text: `An identifier in ${system} holds none of , | $ \\ (a search reads them as syntax): '${identifier.value.slice(0, 64)}'`,
      });
    }
    seen.add(key);
  });
  return problems;
}
