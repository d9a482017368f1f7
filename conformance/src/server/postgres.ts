import { spawnSync } from 'node:child_process';

/**
 * A PostgreSQL database of the suite's own, for HAPI FHIR to run on: made fresh for one run with
 * `psql`, dropped at its end. The server is found the way every libpq client finds it (PGHOST, PGPORT,
 * PGUSER), defaulting to the machine's own: 127.0.0.1:5432 as `postgres`. A password, where the server
 * asks for one, comes from PGPASSWORD: psql reads it from the environment and HAPI gets it as
 * HAPI_DB_PASSWORD, so it is never on a command line or in a log.
 */
export interface PostgresServer {
  host: string;
  port: number;
  user: string;
}

/** One database on it: plain data (it crosses to the test workers inside TargetInfo). */
export interface PostgresDatabase extends PostgresServer {
  database: string;
  /** What HAPI connects to: `jdbc:postgresql://host:port/database` (no credentials in it). */
  jdbcUrl: string;
  /** The server's version, e.g. `PostgreSQL 15.20`. */
  version: string;
}

/** Every database the suite makes is named so; nothing else is ever dropped. */
export const RUN_DATABASE_PREFIX = 'imaging_conformance_';

export function postgresServerFromEnv(env: Record<string, string | undefined> = process.env): PostgresServer {
  const host = env.PGHOST || '127.0.0.1';
  // The JDBC driver reaches a server over TCP only; a socket directory would work for psql and not for HAPI.
  if (host.startsWith('/')) throw new Error(`PGHOST=${host} is a socket directory: HAPI needs a TCP host name`);
  const port = Number(env.PGPORT || 5432);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`PGPORT must be a port, not '${env.PGPORT}'`);
  return { host, port, user: env.PGUSER || 'postgres' };
}

/** The run's database name: the prefix and the run id, in the characters an unquoted name may have. */
export function runDatabaseName(runId: string): string {
  return `${RUN_DATABASE_PREFIX}${runId.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`.slice(0, 63);
}

/** psql's arguments: never a password (psql takes PGPASSWORD from the environment), never a prompt (-w). */
export function psqlArgs(server: PostgresServer, database: string, variables: Record<string, string> = {}): string[] {
  return [
    ...['-X', '-q', '-A', '-t', '-w', '-v', 'ON_ERROR_STOP=1'],
    ...['-h', server.host, '-p', String(server.port), '-U', server.user, '-d', database],
    ...Object.entries(variables).flatMap(([name, value]) => ['-v', `${name}=${value}`]),
  ];
}

/**
 * Runs `sql` (read from stdin, so `:'name'` interpolates `variables` as quoted literals) and returns
 * what it printed, trimmed. Throws with psql's own message, which never holds the password.
 */
export function psql(
  server: PostgresServer,
  database: string,
  sql: string,
  variables: Record<string, string> = {},
): string {
  const result = spawnSync('psql', psqlArgs(server, database, variables), {
    input: sql,
    encoding: 'utf8',
    env: { ...process.env, PGCONNECT_TIMEOUT: process.env.PGCONNECT_TIMEOUT ?? '10' },
    timeout: 120_000,
  });
  if (result.error) {
    const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missing
        ? 'psql is not installed: the PostgreSQL run needs the PostgreSQL client (Debian: apt-get install postgresql-client)'
        : `psql failed: ${result.error.message}`,
    );
  }
  if (result.status !== 0) {
    const where = `${server.user}@${server.host}:${server.port}/${database}`;
    throw new Error(`psql (${where}) exited ${result.status}: ${result.stderr.trim() || '(no message)'}`);
  }
  return result.stdout.trim();
}

/** Makes the run's database on `server` (connecting to its `postgres` database to do so). */
export function createRunDatabase(server: PostgresServer, runId: string): PostgresDatabase {
  const database = runDatabaseName(runId);
  const version = psql(server, 'postgres', `select 'PostgreSQL ' || current_setting('server_version');`);
  psql(server, 'postgres', `create database "${database}";`);
  const jdbcUrl = `jdbc:postgresql://${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port}/${database}`;
  return { ...server, database, jdbcUrl, version: version.replace(/\s*\(.*$/, '') };
}

/** Drops the run's database, closing any connection left to it; refuses a database the suite did not name. */
export function dropRunDatabase(db: PostgresDatabase): void {
  if (!db.database.startsWith(RUN_DATABASE_PREFIX) || !/^[a-z0-9_]+$/.test(db.database))
    throw new Error(`refusing to drop ${db.database}: not a database the conformance suite made`);
  psql(db, 'postgres', `drop database if exists "${db.database}" with (force);`);
}

/** True when a database of that name exists on the server. */
export function databaseExists(db: PostgresDatabase): boolean {
  return (
    psql(db, 'postgres', `select count(*) from pg_database where datname = :'name';`, { name: db.database }) === '1'
  );
}

/** HAPI's settings for the database; the password only when the environment holds one. */
export function hapiDatabaseEnvironment(
  db: PostgresDatabase,
  env: Record<string, string | undefined> = process.env,
): Record<string, string> {
  return {
    HAPI_DB_URL: db.jdbcUrl,
    HAPI_DB_USER: db.user,
    ...(env.PGPASSWORD ? { HAPI_DB_PASSWORD: env.PGPASSWORD } : {}),
  };
}

/** What HAPI keeps in its tables: the partitions it knows and its resource rows, per partition. */
export interface HapiRows {
  /** `hfj_partition`: the named partitions. */
  partitions: string[];
  /** `hfj_resource`: one row per resource (deleted ones too), every partition. */
  resources: number;
  /** The same rows by partition name (`DEFAULT` for rows in no named partition). */
  resourcesByPartition: Record<string, number>;
}

/** HAPI's rows in its database (its schema: hfj_partition, hfj_resource). */
export function hapiRows(db: PostgresDatabase): HapiRows {
  const json = psql(
    db,
    db.database,
    `select json_build_object(
      'partitions', coalesce((select json_agg(part_name order by part_name) from hfj_partition), '[]'::json),
      'resources', (select count(*) from hfj_resource),
      'resourcesByPartition', coalesce((select json_object_agg(name, n) from (
        select coalesce(p.part_name, 'DEFAULT') as name, count(*) as n
        from hfj_resource r left join hfj_partition p on p.part_id = r.partition_id group by 1) counts), '{}'::json));`,
  );
  return JSON.parse(json) as HapiRows;
}

/** How many rows of `hfj_resource` are the resource `type/id` of partition `partition` (0 or 1). */
export function resourceRows(db: PostgresDatabase, partition: string, type: string, id: string): number {
  return Number(
    psql(
      db,
      db.database,
      `select count(*) from hfj_resource r join hfj_partition p on p.part_id = r.partition_id
       where p.part_name = :'partition' and r.res_type = :'type' and r.fhir_id = :'id';`,
      { partition, type, id },
    ),
  );
}

/** One line for a log or a report: `123 rows in hfj_resource (conformance 80, hub 20, …); partitions: …`. */
export function describeRows(rows: HapiRows): string {
  const byPartition = Object.entries(rows.resourcesByPartition)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  return `${rows.resources} rows in hfj_resource (${byPartition || 'none'}); partitions in hfj_partition: ${rows.partitions.join(', ') || 'none'}`;
}
