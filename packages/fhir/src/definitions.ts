import { indexSearchParameter, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { copyFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_SEARCH_PARAMETERS } from './search-parameters.ts';
import type { DefinitionsSubset, TerminologyResource } from './definitions-subset.ts';
import { DEFINITIONS_SUBSET_FILE, readDefinitionsSubset, readR4Json } from './definitions-subset.ts';
import {
  DEFINITIONS_SNAPSHOT_FILE,
  installDefinitionsSnapshot,
  readDefinitionsSnapshot,
  takeDefinitionsSnapshot,
} from './definitions-snapshot.ts';

/** What Medplum's schema holds: nothing yet, the services' subset of R4, or all of R4. */
export type LoadedFhirDefinitions = 'none' | 'subset' | 'all';

let loaded: LoadedFhirDefinitions = 'none';

/** What is kept of the subset once Medplum has indexed its definitions. */
interface SubsetLookups {
  otherResourceTypes: Set<string>;
  terminology: Map<string, TerminologyResource>;
  terminologyAbsent: Set<string>;
}
let lookups: SubsetLookups | undefined;

function subsetLookups(
  read?: Pick<DefinitionsSubset, 'otherResourceTypes' | 'terminology' | 'terminologyAbsent'>,
): SubsetLookups {
  if (!lookups) {
    const subset = read ?? readDefinitionsSubset();
    let terminology: Map<string, TerminologyResource> | undefined;
    lookups = {
      otherResourceTypes: new Set(subset.otherResourceTypes),
      // Made on first use: from a snapshot, the value sets are read then (a required binding checked).
      get terminology() {
        terminology ??= new Map(subset.terminology.map((r) => [r.url as string, r]));
        return terminology;
      },
      terminologyAbsent: new Set(subset.terminologyAbsent),
    };
  }
  return lookups;
}

export function loadedFhirDefinitions(): LoadedFhirDefinitions {
  return loaded;
}

/**
 * Loads the base R4 structure definitions and search parameters of the resource types the services use
 * (see definitions-subset.ts) into Medplum's schema, once per process. Validation, FHIRPath typing and
 * search parameter lookup all need them. The project's own search parameters come with them. (~0.1 s; all of R4 took ~0.5 s.)
 * Beside a production bundle lies the same schema already parsed (definitions-snapshot.ts): it is read
 * instead (~20 ms in all, each part when first used).
 */
export function loadFhirDefinitions(): void {
  if (loaded !== 'none') return;
  const snapshot = readDefinitionsSnapshot();
  if (snapshot) {
    installDefinitionsSnapshot(snapshot);
    subsetLookups(snapshot);
    loaded = 'subset';
    return;
  }
  const subset = readDefinitionsSubset();
  indexStructureDefinitionBundle(subset.structureDefinitions);
  for (const searchParameter of subset.searchParameters) indexSearchParameter(searchParameter);
  for (const sp of PROJECT_SEARCH_PARAMETERS) indexSearchParameter(sp);
  subsetLookups(subset);
  loaded = 'subset';
}

/** The subset's schema as Medplum holds it once parsed, for a bundle to read at start-up instead of parsing. */
export function fhirDefinitionsSnapshot(): Buffer {
  if (loaded !== 'none') throw new Error('the snapshot must be taken in a process that has loaded no definitions yet');
  loadFhirDefinitions();
  return takeDefinitionsSnapshot(readDefinitionsSubset());
}

/**
 * Writes into `dir` the files `loadFhirDefinitions()` reads beside its module, for a bundle whose module
 * is in `dir`: the subset, and its snapshot (taken once by the caller: `fhirDefinitionsSnapshot()`).
 */
export function writeDefinitionsBeside(dir: string, snapshot: Buffer): void {
  copyFileSync(DEFINITIONS_SUBSET_FILE, join(dir, basename(fileURLToPath(DEFINITIONS_SUBSET_FILE))));
  writeFileSync(join(dir, basename(fileURLToPath(DEFINITIONS_SNAPSHOT_FILE))), snapshot);
}

/**
 * Loads every base R4 structure definition and search parameter, once per process: for resources of
 * any type (a tool validating whatever it is given). Each definition parses as in the subset.
 */
export function loadAllFhirDefinitions(): void {
  if (loaded === 'all') return;
  indexStructureDefinitionBundle(readR4Json('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readR4Json('fhir/r4/profiles-resources.json'));
  indexSearchParameterBundle(readR4Json('fhir/r4/search-parameters.json'));
  for (const sp of PROJECT_SEARCH_PARAMETERS) indexSearchParameter(sp);
  loaded = 'all';
}

/**
 * Loads the definitions these resource types need: the subset, or all of R4 when one of them is an R4
 * resource type outside it (a contained Observation, say), so such a resource is checked as before.
 */
export function loadFhirDefinitionsFor(resourceTypes: Iterable<string>): void {
  loadFhirDefinitions();
  if (loaded === 'all') return;
  const { otherResourceTypes } = subsetLookups();
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

let allTerminology: Map<string, TerminologyResource> | undefined;

/**
 * The R4 ValueSet or CodeSystem with this canonical URL (the last listed, where R4 lists several), or
 * undefined when R4 has none. The subset answers for every URL its resource types' required bindings
 * reach; any other URL loads all of R4's (`fhir/r4/valuesets.json`, ~9 MB) once.
 */
export function r4Terminology(url: string): TerminologyResource | undefined {
  const { terminology, terminologyAbsent } = subsetLookups();
  const known = terminology.get(url);
  if (known || terminologyAbsent.has(url)) return known;
  if (!allTerminology) {
    const bundle = readR4Json('fhir/r4/valuesets.json') as { entry?: { resource?: TerminologyResource }[] };
    allTerminology = new Map();
    for (const entry of bundle.entry ?? []) {
      if (entry.resource?.url) allTerminology.set(entry.resource.url, entry.resource);
    }
  }
  return allTerminology.get(url);
}
