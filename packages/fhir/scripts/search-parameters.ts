/**
 * The reference-identifier SearchParameters HttpStore relies on (see src/store/http/reference-identifiers.ts).
 *
 *   node packages/fhir/scripts/search-parameters.ts install <base-url>   creates the missing ones (idempotent)
 *   node packages/fhir/scripts/search-parameters.ts print                prints them as a FHIR collection Bundle
 *
 * On a partitioned HAPI the base URL is the DEFAULT partition (`http://127.0.0.1:8080/fhir/DEFAULT`).
 * Install them before the resources they index are written: HAPI indexes older resources only on $reindex.
 */
import { HttpStore } from '../src/store/http/http-store.ts';
import {
  ensureReferenceIdentifierSearchParameters,
  referenceIdentifierSearchParameters,
} from '../src/store/http/reference-identifiers.ts';
import { OutcomeError } from '../src/outcomes.ts';

const [command, baseUrl] = process.argv.slice(2);
try {
  if (command === 'print') {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: referenceIdentifierSearchParameters().map((resource) => ({ resource })),
    };
    console.log(JSON.stringify(bundle, null, 2));
  } else if (command === 'install' && baseUrl) {
    const created = await ensureReferenceIdentifierSearchParameters(new HttpStore({ baseUrl }));
    console.log(
      `${created.length} SearchParameter(s) created${created.length ? `:\n  ${created.join('\n  ')}` : ' (all present)'}`,
    );
  } else {
    console.error('usage: search-parameters.ts install <base-url> | print');
    process.exitCode = 2;
  }
} catch (err) {
  console.error(err instanceof OutcomeError ? `failed (${err.status}): ${err.message}` : err);
  process.exitCode = 1;
}
