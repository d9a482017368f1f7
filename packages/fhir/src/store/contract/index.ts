import { afterAll, beforeAll, describe } from 'vitest';
import type { FhirStore } from '../port.ts';
import { conditionalCreateTests, ifMatchTests } from './conditional.ts';
import { readCreateDeleteTests, updateTests } from './crud.ts';
import type { StoreKind } from './deviations.ts';
import { contractContext } from './fixtures.ts';
import { historyAndConcurrencyTests } from './history.ts';
import { pagingTests } from './paging.ts';
import { searchParameterTests, searchResultTests, searchWorld } from './search.ts';
import { transactionAtomicityAfterWritesTests, transactionTests } from './transaction.ts';

export type { DeviationId, StoreKind } from './deviations.ts';
export { KNOWN_DEVIATIONS } from './deviations.ts';
export { CONTRACT_SYSTEM, expectOutcome, ids } from './fixtures.ts';

/**
 * The store contract: one suite, run unchanged against every FhirStore (the embedded SQLite store and
 * HAPI FHIR through HttpStore). It covers what the services rely on, and nothing else.
 *
 * Every test isolates itself, so the suite can run against a server that already holds data (or is
 * being used by another run at the same time): values are unique per run, and no test assumes an
 * empty store or counts every resource of a type.
 *
 * Where a server genuinely behaves differently and it is not ours to change, the difference is a named
 * entry in KNOWN_DEVIATIONS, shown in the test's name; the assertion is never loosened silently.
 */

export interface StoreContractOptions {
  /** Which implementation this is, for its known deviations. Default `embedded`. */
  kind?: StoreKind;
}

export function describeStoreContract(
  name: string,
  open: () => Promise<FhirStore>,
  options: StoreContractOptions = {},
): void {
  describe(`FhirStore contract: ${name}`, () => {
    let store: FhirStore | undefined;
    const ctx = contractContext(() => {
      if (!store) throw new Error('The store under test is opened in beforeAll: use it in a hook or a test');
      return store;
    }, options.kind ?? 'embedded');

    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store?.close();
    });

    // These titles are part of every test's name, which the conformance report reads deviations from
    // and compares across runs: the capabilities live in their own files, the names and order here.
    describe('read, create, delete', () => readCreateDeleteTests(ctx));
    describe('update', () => {
      ifMatchTests(ctx);
      updateTests(ctx);
    });
    describe('conditional create (ifNoneExist)', () => conditionalCreateTests(ctx));
    describe('search', () => {
      const world = searchWorld(ctx);
      searchParameterTests(ctx, world);
      pagingTests(ctx, world);
      searchResultTests(ctx, world);
    });
    describe('transaction', () => transactionTests(ctx));
    describe('transaction atomicity after writes', () => transactionAtomicityAfterWritesTests(ctx));
    describe('history and concurrency', () => historyAndConcurrencyTests(ctx));
  });
}
