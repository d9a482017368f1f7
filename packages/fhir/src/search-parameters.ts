import type { SearchParameter } from '@medplum/fhirtypes';
import { CANONICAL_BASE, EXTENSIONS } from './systems.ts';

/**
 * SearchParameters of the project's own, beyond R4's. Every store must know them: `loadFhirDefinitions`
 * indexes them for the embedded store, and `ensureReferenceIdentifierSearchParameters` installs them on
 * HAPI FHIR with the reference-identifier ones (store/http/reference-identifiers.ts).
 */

/**
 * `Task?next-check=le<now>`: the open alert Tasks whose next check is due, so the escalation job reads
 * only what is due, through an index, however many alerts the store has kept.
 */
export const NEXT_CHECK_SEARCH_PARAMETER: SearchParameter = {
  resourceType: 'SearchParameter',
  url: `${CANONICAL_BASE}/SearchParameter/Task-next-check`,
  name: 'TaskNextCheck',
  status: 'active',
  description: 'When the escalation job next looks at an open alert Task (the next-check extension)',
  code: 'next-check',
  base: ['Task'],
  type: 'date',
  expression: `Task.extension.where(url = '${EXTENSIONS.nextCheck}').value.ofType(dateTime)`,
};

export const PROJECT_SEARCH_PARAMETERS: readonly SearchParameter[] = [NEXT_CHECK_SEARCH_PARAMETER];
