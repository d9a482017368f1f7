import { HttpStore } from '@imaging/fhir';
import { describeStoreContract } from '@imaging/fhir/contract';
import { describe, expect, it } from 'vitest';
import { recordingFetch } from '../record/exchange.ts';
import { describeRows, hapiRows } from '../server/postgres.ts';
import { SUITE_PARTITION } from '../server/resolve.ts';
import { note, requireTarget } from '../suite/context.ts';

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

// Only where the suite started HAPI on PostgreSQL: the contract's writes must be rows of that database.
const postgres = target.database?.postgres;
if (postgres) {
  describe('HAPI on PostgreSQL', () => {
    it(`the contract's resources are rows of HAPI's tables in database ${postgres.database}`, () => {
      const rows = hapiRows(postgres);
      note(describeRows(rows));
      expect(rows.partitions).toContain(SUITE_PARTITION);
      expect(rows.resourcesByPartition[SUITE_PARTITION] ?? 0, `rows of partition ${SUITE_PARTITION}`).toBeGreaterThan(
        0,
      );
    });
  });
}
