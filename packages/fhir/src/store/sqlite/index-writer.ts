import type { StatementSync } from 'node:sqlite';
import type { IndexRows } from './indexer.ts';

/** A prepared statement for this SQL, kept for reuse by the caller. */
export type Prepare = (sql: string) => StatementSync;

/**
 * One row of a search index table, in a form shared by the four tables: `a` and `b` are a token's system
 * and code, a reference's target and target id, a date's low and high bounds, a string's value and its
 * lower case.
 */
interface IndexRow {
  table: number;
  param: string;
  a: string;
  b: string;
}

/**
 * The index tables in the order of IndexRow.table. Token and reference rows carry their resource's
 * lastUpdated (`stamped`), so that one index range lists a value's matches in `_sort=_lastUpdated` order.
 */
const TABLES = [
  { name: 'idx_token', columns: 'param, system, code', stamped: true },
  { name: 'idx_reference', columns: 'param, target, target_id', stamped: true },
  { name: 'idx_date', columns: 'param, lo, hi', stamped: false },
  { name: 'idx_string', columns: 'param, value, value_lower', stamped: false },
].map((table) => ({
  ...table,
  insert: table.stamped
    ? `INSERT INTO ${table.name} (pk, type, ${table.columns}, last_updated) VALUES (?, ?, ?, ?, ?, ?)`
    : `INSERT INTO ${table.name} (pk, type, ${table.columns}) VALUES (?, ?, ?, ?, ?)`,
  deleteRow: `DELETE FROM ${table.name} WHERE rowid = ?`,
  deleteAll: `DELETE FROM ${table.name} WHERE pk = ?`,
  // OR FAIL: an UPDATE of several rows that could abort needs a statement journal to undo its own rows;
  // FAIL keeps them, and the caller's transaction is rolled back as a whole on any error anyway.
  restamp: `UPDATE OR FAIL ${table.name} SET last_updated = ? WHERE pk = ?`,
}));

/** A resource's rows in every table, as [table, rowid, param, a, b]; each arm reads one covering index. */
const STORED_ROWS = TABLES.map(
  (table, t) => `SELECT ${t}, rowid, ${table.columns} FROM ${table.name} WHERE pk = ?1`,
).join(' UNION ALL ');

/** Deletes every index row of a resource: a deleted resource is found by no search. */
export function clearIndexRows(prepare: Prepare, pk: number): void {
  for (const table of TABLES) prepare(table.deleteAll).run(pk);
}

/**
 * Writes a version's search index rows. For a new resource, every row is inserted. For a new version of
 * a stored one (`replacing`), only what changed is written: the stored rows are read back (one statement)
 * and compared with the new ones, rows that went away are deleted, new ones inserted, and the rows that
 * stay are left as they are, but for the lastUpdated that token and reference rows carry. An update that
 * changes a Task's status so rewrites two token rows, not every row of every table.
 *
 * The rows afterwards are exactly those that deleting every row and inserting the new ones would leave.
 */
export function writeIndexRows(
  prepare: Prepare,
  pk: number,
  type: string,
  lastUpdated: string,
  rows: IndexRows,
  replacing: boolean,
): void {
  let fresh = flatten(rows);
  if (replacing) fresh = keepUnchanged(prepare, pk, lastUpdated, fresh);
  for (const row of fresh) {
    const table = TABLES[row.table] as (typeof TABLES)[number];
    if (table.stamped) prepare(table.insert).run(pk, type, row.param, row.a, row.b, lastUpdated);
    else prepare(table.insert).run(pk, type, row.param, row.a, row.b);
  }
}

/** Deletes a resource's stored rows that `rows` no longer has, restamps the rest, and returns the rows to insert. */
function keepUnchanged(prepare: Prepare, pk: number, lastUpdated: string, rows: IndexRow[]): IndexRow[] {
  const read = prepare(STORED_ROWS);
  read.setReturnArrays(true);
  // Stored rows by content; a resource can have one row twice (two equal codings), so each key lists rowids.
  const stored = new Map<string, { table: number; rowids: number[] }>();
  for (const value of read.all(pk)) {
    const [table, rowid, param, a, b] = value as unknown as [number, number, string, string, string];
    const key = keyOf(table, param, a, b);
    const entry = stored.get(key);
    if (entry) entry.rowids.push(rowid);
    else stored.set(key, { table, rowids: [rowid] });
  }
  const fresh: IndexRow[] = [];
  const kept = new Set<number>();
  for (const row of rows) {
    const entry = stored.get(keyOf(row.table, row.param, row.a, row.b));
    if (entry?.rowids.length) {
      entry.rowids.pop();
      kept.add(row.table);
    } else fresh.push(row);
  }
  for (const { table, rowids } of stored.values()) {
    for (const rowid of rowids) prepare((TABLES[table] as (typeof TABLES)[number]).deleteRow).run(rowid);
  }
  // Only the rows kept are stored for this pk now: the new ones are inserted after.
  for (const table of kept) {
    const { stamped, restamp } = TABLES[table] as (typeof TABLES)[number];
    if (stamped) prepare(restamp).run(lastUpdated, pk);
  }
  return fresh;
}

function flatten(rows: IndexRows): IndexRow[] {
  const out: IndexRow[] = [];
  for (const t of rows.tokens) out.push({ table: 0, param: t.param, a: t.system, b: t.code });
  for (const r of rows.references) out.push({ table: 1, param: r.param, a: r.target, b: r.targetId });
  for (const d of rows.dates) out.push({ table: 2, param: d.param, a: d.lo, b: d.hi });
  for (const s of rows.strings) out.push({ table: 3, param: s.param, a: s.value, b: s.value.toLowerCase() });
  return out;
}

/** One key per distinct row: the lengths make it unambiguous whatever characters the values hold. */
function keyOf(table: number, param: string, a: string, b: string): string {
  return `${table}:${param.length}:${a.length}:${param}${a}${b}`;
}
