import { HttpStore } from '@imaging/fhir';
import { describeStoreContract } from '@imaging/fhir/contract';
import { recordingFetch } from '../record/exchange.ts';
import { requireTarget } from '../suite/context.ts';

/**
 * Group 1: the store contract — the very tests the embedded store passes — run against the server
 * through HttpStore, with the same expectations. Where HAPI differs for good, the contract names the
 * deviation in the test's title (its KNOWN_DEVIATIONS) and pins the behaviour seen.
 *
 * On any other server the contract expects exactly what the embedded store does (no deviations).
 */
const target = requireTarget();

describeStoreContract(
  `HttpStore on ${target.base}`,
  async () =>
    new HttpStore({
      baseUrl: target.base,
      fetch: recordingFetch('HttpStore → server'),
      referenceIdentifiers: target.kind === 'hapi' ? 'search-parameters' : 'native',
      timeoutMs: 60_000,
    }),
  { kind: target.kind === 'hapi' ? 'hapi' : 'embedded' },
);
