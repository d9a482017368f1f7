import { createHash } from 'node:crypto';
import { CODE_SYSTEMS, searchAll, SYSTEMS, token } from '@imaging/fhir';
import type { FhirStore } from '@imaging/fhir';

/**
 * Used client assertions, kept in the hub's FHIR store so that every hub replica, and the hub after a
 * restart, refuses a replayed `jti`. Each use is a Basic resource created with a conditional create
 * on its identifier (a hash of issuer and jti), so of two concurrent uses only one creates it.
 */

const KIND = 'client-assertion';

function assertionIdentifier(clientId: string, jti: string): string {
  // Hashed: a jti may hold any character, and a search token must not (`,` `|` `$`).
  return createHash('sha256').update(`${clientId}\n${jti}`).digest('hex');
}

/** Records a use of `jti` by `clientId`; false when it was already used (a replay). */
export async function recordAssertionUse(store: FhirStore, clientId: string, jti: string, now: Date): Promise<boolean> {
  const value = assertionIdentifier(clientId, jti);
  const { created } = await store.create(
    {
      resourceType: 'Basic',
      identifier: [{ system: SYSTEMS.clientAssertion, value }],
      code: { coding: [{ system: CODE_SYSTEMS.basicKind, code: KIND, display: 'Used client assertion' }] },
      created: now.toISOString().slice(0, 10),
    },
    { ifNoneExist: `identifier=${token(SYSTEMS.clientAssertion, value)}` },
  );
  return created;
}

/**
 * Deletes records older than `keepDays` whole days (default 2). An assertion lives at most five
 * minutes, so an old record can never stop a replay; `created` is a FHIR date, hence whole days.
 * Returns how many were deleted.
 */
export async function purgeAssertionRecords(store: FhirStore, now: Date, keepDays = 2): Promise<number> {
  const cutoff = new Date(now.getTime() - keepDays * 86_400_000).toISOString().slice(0, 10);
  const query = { code: token(CODE_SYSTEMS.basicKind, KIND), created: `lt${cutoff}` };
  // Collected first, then deleted: a server that caches search results (HAPI does) could otherwise
  // keep answering with records already gone.
  const records = await searchAll(store, 'Basic', query);
  for (const record of records) await store.delete('Basic', record.id);
  return records.length;
}
