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
 * What this project's stores index less of. AuditEvents are written with every change (two or three per
 * order) and searched only by the entity they are about, their subtype and their date (the case's flow,
 * the learning report, the demo's evidence). Indexing the other dozen of R4's AuditEvent parameters was
 * about half of every index row a gateway wrote per order.
 *
 * A search on a parameter left out is refused with a 400 that names the indexed ones, never answered
 * from an index that lacks rows. Adding a parameter here is enough to make it searchable: a store that
 * opens a file indexed under another policy re-indexes the types whose list changed (applyIndexPolicy).
 */
export const PROJECT_INDEX_POLICY: IndexPolicy = {
  AuditEvent: ['date', 'entity', 'subtype'],
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

const POLICY_TABLE = 'CREATE TABLE IF NOT EXISTS index_policy (type TEXT PRIMARY KEY, params TEXT NOT NULL)';

/**
 * Brings a file's index rows in line with `policy`, under the write lock, and records the policy in the
 * file (a file that records none was indexed for every parameter). A type whose list lost parameters has
 * their rows deleted; a type whose list gained any (or that is no longer listed) has each of its
 * resources indexed again by `reindex`. Returns the types re-indexed.
 */
export function applyIndexPolicy(db: DatabaseSync, policy: IndexPolicy, reindex: (type: string) => void): string[] {
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(POLICY_TABLE);
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
    db.exec('COMMIT');
    return reindexed;
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}
