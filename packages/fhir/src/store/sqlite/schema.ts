import type { DatabaseSync } from 'node:sqlite';

/**
 * One row per resource (its current version), every version kept in `resource_version`, and one
 * index table per search parameter type. Index rows carry the resource type so that each lookup is a
 * single index range scan.
 */
const SCHEMA = `
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
CREATE INDEX IF NOT EXISTS resource_type_updated ON resource (type, last_updated);

CREATE TABLE IF NOT EXISTS resource_version (
  pk INTEGER NOT NULL,
  version INTEGER NOT NULL,
  last_updated TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  content TEXT NOT NULL,
  PRIMARY KEY (pk, version)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS idx_token (pk INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL, system TEXT NOT NULL, code TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_token_lookup ON idx_token (type, param, code, system, pk);
CREATE INDEX IF NOT EXISTS idx_token_pk ON idx_token (pk);

CREATE TABLE IF NOT EXISTS idx_reference (pk INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL, target TEXT NOT NULL, target_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_reference_target ON idx_reference (type, param, target, pk);
CREATE INDEX IF NOT EXISTS idx_reference_id ON idx_reference (type, param, target_id, pk);
CREATE INDEX IF NOT EXISTS idx_reference_pk ON idx_reference (pk);

CREATE TABLE IF NOT EXISTS idx_date (pk INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL, lo TEXT NOT NULL, hi TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_date_lo ON idx_date (type, param, lo, hi, pk);
CREATE INDEX IF NOT EXISTS idx_date_hi ON idx_date (type, param, hi, lo, pk);
CREATE INDEX IF NOT EXISTS idx_date_pk ON idx_date (pk);

CREATE TABLE IF NOT EXISTS idx_string (pk INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL, value TEXT NOT NULL, value_lower TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_string_lookup ON idx_string (type, param, value_lower, pk);
CREATE INDEX IF NOT EXISTS idx_string_pk ON idx_string (pk);
`;

export function applySchema(db: DatabaseSync): void {
  db.exec(SCHEMA);
}
