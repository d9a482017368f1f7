import { getAllDataTypes, globalSchema } from '@medplum/core';
import type { InternalTypeSchema } from '@medplum/core';
import { existsSync, readFileSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';
import type { TerminologyResource } from './definitions-subset.ts';

/**
 * The services' definitions as Medplum holds them once parsed, serialised with `node:v8`. Parsing the
 * subset's StructureDefinitions is most of `loadFhirDefinitions()` (~90 ms); reading them back from this
 * form takes ~20 ms. The production bundle (infra/topology/bundle/bundle-services.ts) writes it beside
 * each service's `main.mjs`, from the same sources and the same @medplum/core, in the same build; a run
 * from source has none and parses, as before. `definitions-snapshot.test.ts` checks a process that reads it ends up with
 * byte for byte the same schema, and validates alike.
 */
export interface DefinitionsSnapshot {
  /** The V8 that wrote it: another V8 may not read its format, so the snapshot is then not used. */
  v8: string;
  /** Medplum's data types by name: `getAllDataTypes()`. */
  dataTypes: Record<string, InternalTypeSchema>;
  /** Medplum's search parameters by resource type: `globalSchema.types`. */
  searchTypes: typeof globalSchema.types;
  otherResourceTypes: string[];
  terminology: TerminologyResource[];
  terminologyAbsent: string[];
}

/** Where a service looks for it: beside the module (in a bundle, beside `main.mjs`; in the sources, nowhere). */
export const DEFINITIONS_SNAPSHOT_FILE = new URL('./fhir-definitions.v8', import.meta.url);

/** Medplum's schema as it stands, with the subset's look-ups: call after `loadFhirDefinitions()`. */
export function takeDefinitionsSnapshot(
  lookups: Pick<DefinitionsSnapshot, 'otherResourceTypes' | 'terminology' | 'terminologyAbsent'>,
): Buffer {
  const snapshot: DefinitionsSnapshot = {
    v8: process.versions.v8,
    dataTypes: getAllDataTypes(),
    searchTypes: globalSchema.types,
    otherResourceTypes: lookups.otherResourceTypes,
    terminology: lookups.terminology,
    terminologyAbsent: lookups.terminologyAbsent,
  };
  return serialize(snapshot);
}

/** The snapshot in `file`, or undefined when there is none or this V8 did not write it. */
export function readDefinitionsSnapshot(
  file: URL | string = DEFINITIONS_SNAPSHOT_FILE,
): DefinitionsSnapshot | undefined {
  if (!existsSync(file)) return undefined;
  const snapshot = deserialize(readFileSync(file)) as DefinitionsSnapshot;
  return snapshot.v8 === process.versions.v8 ? snapshot : undefined;
}

/**
 * Puts the snapshot's schema into Medplum, as `indexStructureDefinitionBundle` and `indexSearchParameter`
 * would have left it. (Medplum's by-URL index of profiles is not filled: only the parser and code
 * generation read it, and `loadAllFhirDefinitions()` parses all of R4 again anyway.)
 */
export function installDefinitionsSnapshot(snapshot: DefinitionsSnapshot): void {
  Object.assign(getAllDataTypes(), snapshot.dataTypes);
  Object.assign(globalSchema.types, snapshot.searchTypes);
}
