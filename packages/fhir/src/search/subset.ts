import type { Coding, Resource } from '@medplum/fhirtypes';
import { getDataType } from '@medplum/core';
import { loadFhirDefinitions } from '../definitions.ts';
import type { SearchSubset } from './check.ts';

/**
 * `_summary` and `_elements` (FHIR R4 search): a match shown in part. Done once the store has answered, so
 * both stores answer the same; a subsetted resource carries the SUBSETTED tag, so that it is never taken
 * for the whole resource (and written back as one).
 */

export const SUBSETTED: Readonly<Coding> = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  code: 'SUBSETTED',
};

/** Always kept, with the mandatory elements: what identifies a resource and carries its version and labels. */
const ALWAYS = ['id', 'meta'];

/** The top-level element names of a type, choice elements without their `[x]` (`occurrence`). */
export function elementNames(type: string): ReadonlySet<string> {
  loadFhirDefinitions();
  return new Set(Object.keys(getDataType(type).elements).map((name) => name.replace(/\[x\]$/, '')));
}

/** The resource with only what `subset` keeps, tagged SUBSETTED. */
export function subsetted<T extends Resource>(resource: T, subset: SearchSubset): T {
  loadFhirDefinitions();
  const schema = getDataType(resource.resourceType);
  const choices = new Set(
    Object.keys(schema.elements)
      .filter((name) => name.endsWith('[x]'))
      .map((name) => name.slice(0, -3)),
  );
  const always = [...ALWAYS, ...(schema.mandatoryProperties ?? [])];
  const wanted =
    'elements' in subset
      ? new Set([...always, ...subset.elements])
      : subset.summary === 'true'
        ? new Set([...always, ...(schema.summaryProperties ?? [])])
        : subset.summary === 'text'
          ? new Set([...always, 'text'])
          : undefined; // data: all but the narrative
  const keep = (name: string) => (wanted ? wanted.has(name) : name !== 'text');
  const out: Record<string, unknown> = { resourceType: resource.resourceType };
  for (const [key, value] of Object.entries(resource)) {
    if (key === 'resourceType') continue;
    if (keep(elementOf(key, choices))) out[key] = value;
  }
  const tags = resource.meta?.tag ?? [];
  const tagged = tags.some((t) => t.system === SUBSETTED.system && t.code === SUBSETTED.code);
  out.meta = { ...resource.meta, tag: tagged ? tags : [...tags, { ...SUBSETTED }] };
  return out as T;
}

/**
 * The element a JSON property belongs to: itself, a choice element (`occurrenceDateTime` is `occurrence`),
 * or, for a primitive's extensions (`_status`), the primitive's.
 */
function elementOf(key: string, choices: ReadonlySet<string>): string {
  const bare = key.startsWith('_') ? key.slice(1) : key;
  for (let i = 1; i < bare.length; i++) {
    if (/[A-Z]/.test(bare[i] as string) && choices.has(bare.slice(0, i))) return bare.slice(0, i);
  }
  return bare;
}
