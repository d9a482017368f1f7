import { afterAll, describe, expect, it } from 'vitest';
import type { PostgresDatabase } from './postgres.ts';
import {
  createRunDatabase,
  databaseExists,
  describeRows,
  dropRunDatabase,
  hapiDatabaseEnvironment,
  hapiRows,
  postgresServerFromEnv,
  psql,
  psqlArgs,
  RUN_DATABASE_PREFIX,
  resourceRows,
  runDatabaseName,
} from './postgres.ts';

const server = { host: '127.0.0.1', port: 5432, user: 'postgres' };

describe('the run database, without a server', () => {
  it('the local server by default; libpq variables move it; a socket directory is refused (JDBC needs TCP)', () => {
    expect(postgresServerFromEnv({})).toEqual(server);
    expect(postgresServerFromEnv({ PGHOST: 'db.example', PGPORT: '5433', PGUSER: 'hapi' })).toEqual({
      host: 'db.example',
      port: 5433,
      user: 'hapi',
    });
    expect(() => postgresServerFromEnv({ PGHOST: '/var/run/postgresql' })).toThrow(/socket directory/);
    expect(() => postgresServerFromEnv({ PGPORT: 'x' })).toThrow(/PGPORT must be a port/);
  });

  it('is named from the run id, in characters an unquoted name may have, within 63', () => {
    expect(runDatabaseName('20261123T100000-a1B2c3')).toBe(`${RUN_DATABASE_PREFIX}20261123t100000_a1b2c3`);
    expect(runDatabaseName('x'.repeat(100))).toHaveLength(63);
    expect(runDatabaseName('"; drop database postgres; --')).toMatch(/^[a-z0-9_]+$/);
  });

  it('the password goes by environment only: never in psql arguments, and to HAPI only when there is one', () => {
    const db = { ...server, database: 'd', jdbcUrl: 'jdbc:postgresql://127.0.0.1:5432/d', version: 'PostgreSQL 15' };
    expect(psqlArgs(server, 'd', { id: '1' }).join(' ')).not.toMatch(/password|secret/i);
    expect(psqlArgs(server, 'd')).toContain('-w');
    expect(hapiDatabaseEnvironment(db, { PGPASSWORD: 'secret' })).toEqual({
      HAPI_DB_URL: 'jdbc:postgresql://127.0.0.1:5432/d',
      HAPI_DB_USER: 'postgres',
      HAPI_DB_PASSWORD: 'secret',
    });
    expect(hapiDatabaseEnvironment(db, {})).not.toHaveProperty('HAPI_DB_PASSWORD');
  });

  it('refuses to drop a database the suite did not make', () => {
    const theirs = { ...server, database: 'postgres', jdbcUrl: '', version: '' };
    expect(() => dropRunDatabase(theirs)).toThrow(/refusing to drop postgres/);
    const quoted = { ...theirs, database: `${RUN_DATABASE_PREFIX}x" or "y` };
    expect(() => dropRunDatabase(quoted)).toThrow(/refusing to drop/);
  });
});

// Against the machine's own PostgreSQL (the PostgreSQL conformance run needs it as well).
describe('the run database, on the local PostgreSQL', () => {
  let db: PostgresDatabase | undefined;
  afterAll(() => {
    if (db && databaseExists(db)) dropRunDatabase(db);
  });

  it('is made, counted through HAPI’s tables, and dropped: only it', () => {
    db = createRunDatabase(postgresServerFromEnv(), `unit-${process.pid}-${Date.now()}`);
    expect(db.jdbcUrl).toBe(`jdbc:postgresql://${db.host}:${db.port}/${db.database}`);
    expect(db.version).toMatch(/^PostgreSQL \d+/);
    expect(databaseExists(db)).toBe(true);
    // Before HAPI has made its schema there is nothing to count: a clear error, not zero.
    expect(() => hapiRows(db as PostgresDatabase)).toThrow(/hfj_partition|hfj_resource/);

    // The two tables as HAPI 8 has them (the columns the suite reads).
    psql(
      db,
      db.database,
      `create table hfj_partition (part_id integer primary key, part_name varchar(200) not null);
       create table hfj_resource (res_id bigint, partition_id integer, res_type varchar(100), fhir_id varchar(64));
       insert into hfj_partition values (11, 'north'), (12, 'midlands'), (13, 'south');
       insert into hfj_resource values (1, 11, 'ServiceRequest', '1'), (2, 11, 'Task', '2'), (3, 12, 'ServiceRequest', '3'),
         (4, null, 'SearchParameter', 'sp');`,
    );
    const rows = hapiRows(db);
    expect(rows).toEqual({
      partitions: ['midlands', 'north', 'south'],
      resources: 4,
      resourcesByPartition: { north: 2, midlands: 1, DEFAULT: 1 },
    });
    expect(describeRows(rows)).toBe(
      '4 rows in hfj_resource (DEFAULT 1, midlands 1, north 2); partitions in hfj_partition: midlands, north, south',
    );
    expect(resourceRows(db, 'north', 'ServiceRequest', '1')).toBe(1);
    expect(resourceRows(db, 'midlands', 'ServiceRequest', '1')).toBe(0);
    expect(resourceRows(db, 'north', 'ServiceRequest', "1' or '1'='1")).toBe(0);

    dropRunDatabase(db);
    expect(databaseExists(db)).toBe(false);
    expect(databaseExists({ ...db, database: 'postgres' })).toBe(true);
  });
});
