import type { DatabaseSync } from 'node:sqlite';
import { badRequest, OutcomeError } from '../../outcomes.ts';

/**
 * Which search parameters the embedded store indexes, per resource type: a type listed here is indexed
 * for the parameters listed only; any other type for every parameter R4 gives it (except `_id`, which
 * the resource table answers). Each index row costs its insert into a table and three or four B-trees on
 * every write, so a type written often and searched by few parameters is listed.
 */
export type IndexPolicy = Readonly<Partial<Record<string, readonly string[]>>>;

/**
 * What this project's stores index: the types an order writes, each for the parameters something searches
 * it by (the gateway's search rules, which clients are held to, and the services' own searches); other
 * types (the directory's, the safety layer's) are written rarely and stay indexed for every parameter.
 * An order wrote some 115 index rows on the sending gateway; half were for parameters nothing searches.
 * - AuditEvent: written with every change, searched by the entity it is about, its subtype and date.
 * - Task and ServiceRequest: not by intent, priority, tags, profiles or dates nobody asks for.
 * - Patient: found by NHS number (identifier) and the access labels, never by name or birth date here.
 * - Bundle: a stored message, found by its identifier.
 *
 * A search by a parameter left out is refused with a 400 that names the indexed ones, never answered
 * from an index that lacks rows (the gateway's tests check its search rules against this list). Adding
 * a parameter here is enough to make it searchable: a store that opens a file indexed under another
 * policy indexes the types whose list changed again (applyIndexPolicy).
 */
export const PROJECT_INDEX_POLICY: IndexPolicy = {
  AuditEvent: ['date', 'entity', 'subtype'],
  Bundle: ['identifier'],
  Patient: ['_lastUpdated', '_security', 'identifier'],
  ServiceRequest: [
    '_lastUpdated',
    '_security',
    'authored',
    'code',
    'identifier',
    'patient',
    'performer',
    'requester',
    'status',
    'subject',
  ],
  Task: [
    '_lastUpdated',
    '_security',
    'authored-on',
    'based-on',
    'business-status',
    'code',
    'focus',
    'group-identifier',
    'identifier',
    'next-check',
    'owner',
    'patient',
    'requester',
    'status',
    'subject',
  ],
};

/** Whether `policy` indexes `code` for `type`. */
export function isIndexed(policy: IndexPolicy, type: string, code: string): boolean {
  const listed = policy[type];
  return !listed || listed.includes(code);
}

/** Refuses a search by a parameter the policy does not index, naming those it does. */
export function checkIndexed(policy: IndexPolicy, type: string, code: string, key: string = code): void {
  if (isIndexed(policy, type, code)) return;
  throw new OutcomeError(
    badRequest(
      `Search parameter '${code}' of ${type} is not indexed by this store; ${type} is searched by ${[
        '_id',
        ...(policy[type] ?? []),
      ].join(', ')}`,
      key,
    ),
  );
}

/** Every index table: the policy's changes delete from each. */
const INDEX_TABLES = ['idx_token', 'idx_reference', 'idx_date', 'idx_string'];

/**
 * Brings a file's index rows in line with `policy`, and records the policy in the file (schema.ts's
 * `index_policy`; a file that records none was indexed for every parameter). The caller holds the write
 * lock. A type whose list lost parameters has their rows deleted; a type whose list gained any (or that is
 * no longer listed) has each of its resources indexed again by `reindex`. Returns the types re-indexed.
 */
export function applyIndexPolicy(db: DatabaseSync, policy: IndexPolicy, reindex: (type: string) => void): string[] {
  const stored = new Map<string, string[]>();
  for (const row of db.prepare('SELECT type, params FROM index_policy').all())
    stored.set(String(row.type), String(row.params).split(',').filter(Boolean));
  const reindexed: string[] = [];
  for (const type of new Set([...stored.keys(), ...Object.keys(policy)])) {
    const before = stored.get(type);
    const after = policy[type];
    if (after && before?.length === after.length && after.every((p) => before.includes(p))) continue;
    if (after && (!before || after.every((p) => before.includes(p)))) {
      const keep = after.map(() => '?').join(', ');
      for (const table of INDEX_TABLES)
        db.prepare(`DELETE FROM ${table} WHERE type = ? AND param NOT IN (${keep})`).run(type, ...after);
    } else {
      reindex(type);
      reindexed.push(type);
    }
    if (after)
      db.prepare('INSERT OR REPLACE INTO index_policy (type, params) VALUES (?, ?)').run(type, after.join(','));
    else db.prepare('DELETE FROM index_policy WHERE type = ?').run(type);
  }
  return reindexed;
}
