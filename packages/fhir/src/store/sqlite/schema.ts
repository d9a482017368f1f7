import type { DatabaseSync } from 'node:sqlite';

/**
 * One row per resource (its current version), every earlier version kept in `resource_version`, and one
 * index table per search parameter type. Index rows carry the resource type, and token and reference
 * rows the resource's lastUpdated, so that one index range lists a parameter value's matches in the
 * order a search returns them (by pk, or by lastUpdated) and a search can stop at the end of its page.
 */
const TABLES = `
CREATE TABLE IF NOT EXISTS resource (
  pk INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  last_updated TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  content TEXT NOT NULL,
  UNIQUE (type, id)
);
CREATE TABLE IF NOT EXISTS resource_version (
  pk INTEGER NOT NULL,
  version INTEGER NOT NULL,
  last_updated TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  content TEXT NOT NULL,
  PRIMARY KEY (pk, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idx_token (pk INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL, system TEXT NOT NULL, code TEXT NOT NULL, last_updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idx_reference (pk INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL, target TEXT NOT NULL, target_id TEXT NOT NULL, last_updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idx_date (pk INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL, lo TEXT NOT NULL, hi TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idx_string (pk INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL, value TEXT NOT NULL, value_lower TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS index_policy (type TEXT PRIMARY KEY, params TEXT NOT NULL);
`;

/**
 * `*_value` and `*_target` list one value's matches by pk, `*_updated` by lastUpdated; `*_resource`
 * answers "does resource pk match this parameter?" with one seek (and serves deleting a resource's rows).
 */
const INDEXES = `
CREATE INDEX IF NOT EXISTS resource_type_updated ON resource (type, last_updated);
CREATE INDEX IF NOT EXISTS idx_token_value ON idx_token (type, param, code, pk, system);
CREATE INDEX IF NOT EXISTS idx_token_updated ON idx_token (type, param, code, last_updated, pk, system);
CREATE INDEX IF NOT EXISTS idx_token_resource ON idx_token (pk, param, code, system);
CREATE INDEX IF NOT EXISTS idx_reference_target ON idx_reference (type, param, target, pk);
CREATE INDEX IF NOT EXISTS idx_reference_updated ON idx_reference (type, param, target, last_updated, pk);
CREATE INDEX IF NOT EXISTS idx_reference_resource ON idx_reference (pk, param, target, target_id);
CREATE INDEX IF NOT EXISTS idx_date_lo ON idx_date (type, param, lo, hi, pk);
CREATE INDEX IF NOT EXISTS idx_date_hi ON idx_date (type, param, hi, lo, pk);
CREATE INDEX IF NOT EXISTS idx_date_resource ON idx_date (pk, param, lo, hi);
CREATE INDEX IF NOT EXISTS idx_string_lookup ON idx_string (type, param, value_lower, pk);
CREATE INDEX IF NOT EXISTS idx_string_resource ON idx_string (pk, param, value_lower, value);
`;

/**
 * Indexes of earlier layouts that the ones above replace: the first layout's (user_version 0), and
 * `idx_reference_id` (before version 3), whose random keys cost every reference written a page of its own.
 */
const REPLACED_INDEXES = [
  'idx_token_lookup',
  'idx_token_pk',
  'idx_reference_pk',
  'idx_date_pk',
  'idx_string_pk',
  'idx_reference_id',
];

/**
 * PRAGMA user_version of the layout above; files written before it have 0. Version 2 writes no `_id`
 * token rows (the resource table answers `_id`): a file of version 1 has them deleted. `index_policy`
 * records the parameters each listed type is indexed for (index-policy.ts). Version 3 has no index of
 * reference target ids: a bare-id search lists `Type/id` per target type (query.ts bareIdTargets).
 */
export const SCHEMA_VERSION = 3;

/**
 * Creates the schema in a new file and brings an existing file up to date. The caller holds the write
 * lock (SqliteStore opens with one `BEGIN IMMEDIATE` for this and the index policy): replicas opening the
 * same file at the same time wait for each other and the second finds it done.
 */
export function applySchema(db: DatabaseSync): void {
  const version = Number(db.prepare('PRAGMA user_version').get()?.user_version ?? 0);
  if (version >= SCHEMA_VERSION) return;
  db.exec(TABLES);
  for (const table of ['idx_token', 'idx_reference']) addLastUpdated(db, table);
  for (const index of REPLACED_INDEXES) db.exec(`DROP INDEX IF EXISTS ${index}`);
  db.exec(INDEXES);
  // Per type, so that each delete is one range of idx_token_value rather than a scan of the table.
  const types = db.prepare('SELECT DISTINCT type FROM resource').all();
  const deleteIds = db.prepare("DELETE FROM idx_token WHERE type = ? AND param = '_id'");
  for (const { type } of types) deleteIds.run(type as string);
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
}

/** A file of the first layout: its index rows get their resource's lastUpdated (a one-off pass). */
function addLastUpdated(db: DatabaseSync, table: string): void {
  const columns = db.prepare(`PRAGMA table_info(${table})`).all();
  if (columns.some((c) => c.name === 'last_updated')) return;
  db.exec(`ALTER TABLE ${table} ADD COLUMN last_updated TEXT NOT NULL DEFAULT ''`);
  db.exec(`UPDATE ${table} SET last_updated = (SELECT r.last_updated FROM resource r WHERE r.pk = ${table}.pk)`);
}
