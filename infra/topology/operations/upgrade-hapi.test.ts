import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StartedHapiJar } from '@imaging/conformance';
import {
  buildJar,
  createRunDatabase,
  describeRows,
  dropRunDatabase,
  HAPI_JAR,
  hapiDatabaseEnvironment,
  hapiRows,
  PREVIOUS_HAPI_JAR,
  postgresServerFromEnv,
  psql,
  REPO_ROOT,
  startHapiJar,
} from '@imaging/conformance';
import type { HapiRows, PostgresDatabase } from '@imaging/conformance';
import { HttpStore, NHS_NUMBER_SYSTEM, ODS_SYSTEM, OutcomeError, SYSTEMS, testNhsNumber } from '@imaging/fhir';
import {
  EXAMPLE,
  exampleAcknowledgementTask,
  exampleDiagnosticReport,
  exampleEndpoint,
  exampleFulfilmentTask,
  exampleImagingStudy,
  exampleOrganization,
  examplePatient,
  exampleServiceRequest,
  profileDefinitions,
} from '@imaging/fhir/examples';
import type { Bundle, CapabilityStatement, Resource, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareHapi } from '../scripts/prepare-hapi.ts';
import { OPERATIONS_DOC, taggedCommands } from '../smoke/operations-doc.ts';
import { loadDeployment } from '../validation/deployment.ts';

/**
 * docs/operations.md, "Upgrading HAPI": its `sh upgrade-hapi` block run on two HAPI FHIR releases and
 * one PostgreSQL database. The launcher built at the release before (pom.xml profile `previous-hapi`)
 * starts on a fresh database with the compose file's HAPI settings, is prepared as the compose one-shot
 * prepares it, and takes a case across the partitions the way the services write it. Then the block,
 * line by line: `stop … hapi` stops that server; `run --rm --no-deps hapi` becomes `java -jar` of the
 * current launcher with the rest of the line as written (`migrate | grep …`); `up -d` starts the current
 * launcher on the same database. What was there must still be there, found by the same searches, and
 * new writes must work. The database is dropped at the end, also on failure.
 */

const COMPOSE = 'sudo podman-compose -p imaging-connect -f infra/topology/compose.yaml';
const STOP = `${COMPOSE} stop hub gateway-north gateway-midlands gateway-south hapi`;
const RUN_HAPI = `${COMPOSE} run --rm --no-deps hapi `;
const UP = `${COMPOSE} up -d`;

const PARTITIONS = ['hub', 'north', 'midlands', 'south'] as const;
type Partition = (typeof PARTITIONS)[number];

const workDir = mkdtempSync(join(tmpdir(), 'imaging-upgrade-hapi-'));
const log = (line: string) => console.log(`upgrade-hapi: ${line}`);

/** The compose file's HAPI environment, on the test's database instead of the compose one. */
function hapiEnvironment(db: PostgresDatabase): Record<string, string> {
  const env = loadDeployment().compose.services.hapi?.environment;
  if (!env || Array.isArray(env)) throw new Error('compose.yaml: the hapi service has no environment map');
  const { HAPI_DB_PASSWORD_FILE: _secret, ...settings } = Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, String(v)]),
  );
  expect(settings.HAPI_DB_URL).toMatch(/^jdbc:postgresql:/);
  expect(settings.HAPI_PARTITIONS?.split(',')).toEqual([...PARTITIONS]);
  return { ...settings, ...hapiDatabaseEnvironment(db) };
}

/** A resource as written: where it lives and what it is. */
interface Written {
  partition: Partition;
  type: Resource['resourceType'];
  id: string;
}

/** A search the services make, and what it found. */
interface Search {
  partition: Partition;
  type: Resource['resourceType'];
  query: Record<string, string>;
}

const nhs = (n: string) => `${NHS_NUMBER_SYSTEM}|${n}`;
const ods = (code: string) => `${ODS_SYSTEM}|${code}`;
const SOUTH_ONLY_PATIENT = testNhsNumber(1);

/** Searches that must find the same resources before and after; the project's SearchParameters among them. */
const SEARCHES: Search[] = [
  { partition: 'north', type: 'Patient', query: { identifier: nhs(EXAMPLE.nhsNumber) } },
  { partition: 'north', type: 'ServiceRequest', query: { 'subject:identifier': nhs(EXAMPLE.nhsNumber) } },
  { partition: 'north', type: 'Task', query: { 'owner:identifier': ods(EXAMPLE.performerOds), status: 'accepted' } },
  { partition: 'midlands', type: 'Task', query: { identifier: `${SYSTEMS.task}|${EXAMPLE.task}` } },
  { partition: 'midlands', type: 'Task', query: { 'owner:identifier': ods(EXAMPLE.requesterOds) } },
  { partition: 'midlands', type: 'DiagnosticReport', query: { 'subject:identifier': nhs(EXAMPLE.nhsNumber) } },
  { partition: 'midlands', type: 'ImagingStudy', query: { identifier: `${SYSTEMS.accession}|${EXAMPLE.accession}` } },
  { partition: 'hub', type: 'Organization', query: { identifier: ods(EXAMPLE.performerOds) } },
  { partition: 'hub', type: 'Endpoint', query: { 'organization:identifier': ods(EXAMPLE.performerOds) } },
  { partition: 'south', type: 'Patient', query: { identifier: nhs(EXAMPLE.nhsNumber) } },
  { partition: 'south', type: 'Patient', query: { identifier: nhs(SOUTH_ONLY_PATIENT) } },
];

function stores(root: string): Record<Partition, HttpStore> {
  return Object.fromEntries(
    PARTITIONS.map((p) => [p, new HttpStore({ baseUrl: `${root}/${p}`, timeoutMs: 120_000 })]),
  ) as Record<Partition, HttpStore>;
}

/** A transaction of conditional creates, as a gateway stores what it receives; the ids it got. */
async function conditionalCreates(store: HttpStore, partition: Partition, resources: Resource[]): Promise<Written[]> {
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((resource) => {
      const identifier = (resource as { identifier?: { system?: string; value?: string }[] }).identifier?.[0];
      return {
        resource,
        request: {
          method: 'POST',
          url: resource.resourceType,
          ifNoneExist: `identifier=${encodeURIComponent(`${identifier?.system}|${identifier?.value}`)}`,
        },
      };
    }),
  };
  const response = await store.transaction(bundle);
  return (response.entry ?? []).map((entry, i) => {
    const [type, id] = (entry.response?.location ?? '').split('/');
    expect(type, `entry ${i}: ${entry.response?.status}`).toBe(resources[i]?.resourceType);
    return { partition, type: type as Resource['resourceType'], id: id as string };
  });
}

/** The case, across the partitions: the order in the north, its copy, the imaging and the report in the midlands. */
async function writeCase(root: string): Promise<Written[]> {
  const s = stores(root);
  const written: Written[] = [];
  const endpoint = await s.hub.update({ ...exampleEndpoint(), id: EXAMPLE.endpointId });
  written.push({ partition: 'hub', type: 'Endpoint', id: endpoint.id });
  written.push(
    ...(await conditionalCreates(s.hub, 'hub', [
      exampleOrganization(),
      exampleOrganization({ identifier: [{ system: ODS_SYSTEM, value: EXAMPLE.requesterOds }], name: 'GP' }),
    ])),
  );
  const order = [examplePatient(), exampleServiceRequest(), exampleFulfilmentTask()];
  written.push(...(await conditionalCreates(s.north, 'north', order)));
  written.push(...(await conditionalCreates(s.midlands, 'midlands', order)));
  // The midlands accepts; the north's copy follows with a versioned update (version 2).
  const northTask = written.find((w) => w.partition === 'north' && w.type === 'Task') as Written;
  const task = await s.north.read<Task>('Task', northTask.id);
  await s.north.update({ ...task, status: 'accepted' }, { ifMatch: task.meta?.versionId as string });
  // A client-assigned id is unique across partitions on HAPI: the midlands' own Endpoint has its own.
  const midlandsEndpoint = await s.midlands.update({ ...exampleEndpoint(), id: `${EXAMPLE.endpointId}-midlands` });
  written.push({ partition: 'midlands', type: 'Endpoint', id: midlandsEndpoint.id });
  written.push(
    ...(await conditionalCreates(s.midlands, 'midlands', [
      exampleImagingStudy({ endpoint: [{ reference: `Endpoint/${midlandsEndpoint.id}` }] }),
      exampleDiagnosticReport(),
      exampleAcknowledgementTask(),
    ])),
  );
  // The same NHS number in another region is another region's patient (uniqueness is per partition).
  written.push(
    ...(await conditionalCreates(s.south, 'south', [
      examplePatient(),
      examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: SOUTH_ONLY_PATIENT }] }),
    ])),
  );
  return written;
}

async function readAll(root: string, written: Written[]): Promise<Resource[]> {
  const s = stores(root);
  return Promise.all(written.map((w) => s[w.partition].read(w.type, w.id)));
}

async function searchAll(root: string): Promise<string[][]> {
  const s = stores(root);
  const found: string[][] = [];
  for (const search of SEARCHES) {
    const page = await s[search.partition].search(search.type, search.query);
    found.push(page.resources.map((r) => `${r.resourceType}/${r.id}`).sort());
  }
  return found;
}

async function softwareVersion(root: string): Promise<string | undefined> {
  const res = await fetch(`${root}/metadata`, { headers: { Accept: 'application/fhir+json' } });
  return ((await res.json()) as CapabilityStatement).software?.version;
}

/** HAPI's migration history: the task versions it recorded as done, in the order it ran them. */
function migrationHistory(db: PostgresDatabase): string[] {
  const out = psql(
    db,
    db.database,
    `select version from "FLY_HFJ_MIGRATION" where success and coalesce(version, '') <> '' order by installed_rank;`,
  );
  return out ? out.split('\n') : [];
}

/** Runs one line of the doc's block; the servers it stops and starts are the test's. */
async function runDocLine(
  line: string,
  steps: { stop: () => Promise<void>; start: () => Promise<void>; env: Record<string, string> },
): Promise<string> {
  if (line === STOP) {
    await steps.stop();
    return '';
  }
  if (line === UP) {
    await steps.start();
    return '';
  }
  if (line.startsWith(RUN_HAPI)) {
    // The image's entrypoint is `java … -jar /opt/hapi/hapi-fhir-server.jar`; the rest of the line as written.
    const script = `java -jar '${HAPI_JAR}' ${line.slice(RUN_HAPI.length)}`;
    const result = spawnSync('sh', ['-euc', script], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...steps.env },
      encoding: 'utf8',
      timeout: 600_000,
    });
    if (result.status !== 0)
      throw new Error(`\`${script}\` exited ${result.status}:\n${result.stdout}\n${result.stderr}`.trim());
    return result.stdout;
  }
  throw new Error(`the upgrade test does not know how to run: ${line}`);
}

describe('docs/operations.md: upgrading HAPI', () => {
  const blocks = taggedCommands(readFileSync(OPERATIONS_DOC, 'utf8'), 'upgrade-hapi');
  const lines = (blocks[0]?.script ?? '').split('\n');

  it('is one block: stop HAPI and its clients, migrate with the new image, start everything', () => {
    expect(blocks).toHaveLength(1);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(STOP);
    expect(lines[1]).toMatch(new RegExp(`^${RUN_HAPI.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}migrate\\b`));
    expect(lines[2]).toBe(UP);
  });

  let db: PostgresDatabase | undefined;
  let oldServer: StartedHapiJar | undefined;
  let newServer: StartedHapiJar | undefined;
  let written: Written[] = [];
  const before = {} as {
    software?: string;
    history: string[];
    rows: HapiRows;
    resources: Resource[];
    searches: string[][];
  };
  const after = {} as { history: string[]; migrateOutput: string; seconds: Record<string, number> };

  beforeAll(async () => {
    const t0 = performance.now();
    const since = (t: number) => Math.round((performance.now() - t) / 1000);
    // Both jars up to date with pom.xml and src/ (each built only when stale; the previous one is cached
    // in infra/hapi-fhir/target/previous-hapi/).
    await buildJar('build-previous', PREVIOUS_HAPI_JAR);
    await buildJar('build', HAPI_JAR);
    const tBuilt = performance.now();
    after.seconds = { builds: since(t0) };

    db = createRunDatabase(postgresServerFromEnv(), `upgrade-hapi-${process.pid}-${Date.now()}`);
    const env = hapiEnvironment(db);
    log(`database ${db.database} on ${db.version}`);

    // The validator's warm-up only delays readiness (both servers); nothing here validates.
    const start = (name: string, jar: string) =>
      startHapiJar({ workDir: join(workDir, name), jar, env: { ...env, HAPI_WARMUP_VALIDATOR: 'false' }, log });
    oldServer = await start('previous', PREVIOUS_HAPI_JAR);
    after.seconds.previousStart = Math.round(oldServer.startupMs / 1000);
    before.software = await softwareVersion(oldServer.baseUrl);
    before.history = migrationHistory(db);
    await prepareHapi(
      { base: oldServer.baseUrl, partitions: [...PARTITIONS], waitOnly: false, timeoutMs: 300_000 },
      { fetch, sleep: (ms) => new Promise((r) => setTimeout(r, ms)), now: Date.now, log },
    );
    // HAPI 8.2+ refuses a resource whose meta.profile it cannot resolve: the project's profiles, in DEFAULT.
    const definitions = new HttpStore({ baseUrl: `${oldServer.baseUrl}/DEFAULT`, timeoutMs: 120_000 });
    for (const definition of profileDefinitions())
      await definitions.update({ ...definition, id: definition.id as string });
    written = await writeCase(oldServer.baseUrl);
    before.rows = hapiRows(db);
    before.resources = await readAll(oldServer.baseUrl, written);
    before.searches = await searchAll(oldServer.baseUrl);
    log(`HAPI ${before.software}: ${describeRows(before.rows)}`);

    const tUpgrade = performance.now();
    const steps = {
      env,
      stop: async () => {
        await oldServer?.stop();
        oldServer = undefined;
      },
      start: async () => {
        after.history = migrationHistory(db as PostgresDatabase);
        newServer = await start('current', HAPI_JAR);
        after.seconds.currentStart = Math.round(newServer.startupMs / 1000);
      },
    };
    after.migrateOutput = '';
    for (const line of lines) after.migrateOutput += await runDocLine(line, steps);
    after.seconds.upgrade = since(tUpgrade);
    after.seconds.total = since(t0);
    after.seconds.afterBuilds = since(tBuilt);
    log(`seconds: ${JSON.stringify(after.seconds)}`);
  });

  afterAll(async () => {
    await oldServer?.stop();
    await newServer?.stop();
    if (db) dropRunDatabase(db);
    rmSync(workDir, { recursive: true, force: true });
  });

  it('the old server was the release before, on a schema that HAPI’s migrator made', async () => {
    const previous = /<id>previous-hapi<\/id>\s*<properties>\s*<hapi\.version>([^<]+)</.exec(
      readFileSync(join(REPO_ROOT, 'infra/hapi-fhir/pom.xml'), 'utf8'),
    )?.[1];
    expect(previous).toMatch(/^\d+\.\d+\.\d+$/);
    expect(before.software).toBe(previous);
    expect(await softwareVersion(newServer?.baseUrl as string)).not.toBe(previous);
    expect(before.history[0]).toMatch(/^3\.3\.0\./); // HAPI's schema initialisation, at the old release
  });

  it('the migrate line brought the schema to the new release: the new server had nothing left to run', () => {
    const line = /^hapi-fhir: migrated jdbc:postgresql:\S+: schema at HAPI \S+ .*: (\d+) migration tasks run now/m.exec(
      after.migrateOutput,
    );
    expect(line, after.migrateOutput).not.toBeNull();
    // HAPI's history kept what the old release recorded, and gained what the migrate line said it ran.
    expect(after.history.slice(0, before.history.length)).toEqual(before.history);
    expect(after.history.length - before.history.length).toBe(Number(line?.[1]));
    expect(readFileSync(newServer?.logFile as string, 'utf8')).toMatch(/ 0 migration tasks run now/);
  });

  it('every resource is still there: the same rows per partition, and each read gives the same version', async () => {
    expect(hapiRows(db as PostgresDatabase)).toEqual(before.rows);
    const now = await readAll(newServer?.baseUrl as string, written);
    expect(now).toEqual(before.resources);
    expect(new Set(written.map((w) => w.partition))).toEqual(new Set(PARTITIONS));
  });

  it('searches find what they found before, through HAPI’s indexes and the project’s SearchParameters', async () => {
    expect(before.searches.every((ids) => ids.length === 1)).toBe(true);
    expect(await searchAll(newServer?.baseUrl as string)).toEqual(before.searches);
    const s = stores(newServer?.baseUrl as string);
    const northTask = written.find((w) => w.partition === 'north' && w.type === 'Task') as Written;
    expect(await s.north.history('Task', northTask.id)).toHaveLength(2);
  });

  it('new writes work: conditional creates match per partition, versioned updates, new resources are found', async () => {
    const s = stores(newServer?.baseUrl as string);
    const patientIn = (p: Partition) => written.find((w) => w.partition === p && w.type === 'Patient')?.id;
    const ifNoneExist = `identifier=${nhs(EXAMPLE.nhsNumber)}`;
    const north = await s.north.create(examplePatient(), { ifNoneExist });
    expect({ created: north.created, id: north.resource.id }).toEqual({ created: false, id: patientIn('north') });
    const south = await s.south.create(examplePatient(), { ifNoneExist });
    expect({ created: south.created, id: south.resource.id }).toEqual({ created: false, id: patientIn('south') });

    const midlandsTask = written.find((w) => w.partition === 'midlands' && w.type === 'Task') as Written;
    const task = await s.midlands.read<Task>('Task', midlandsTask.id);
    const accepted = await s.midlands.update(
      { ...task, status: 'accepted' },
      { ifMatch: task.meta?.versionId as string },
    );
    expect(accepted.meta?.versionId).toBe('2');
    await expect(
      s.midlands.update({ ...task, status: 'rejected' }, { ifMatch: task.meta?.versionId as string }),
    ).rejects.toSatisfy((err: unknown) => err instanceof OutcomeError && err.status === 412);

    const identifier = { system: SYSTEMS.task, value: 'N81001-000124-fulfil' };
    const created = await s.midlands.create(exampleFulfilmentTask({ identifier: [identifier] }), {
      ifNoneExist: `identifier=${identifier.system}|${identifier.value}`,
    });
    expect(created.created).toBe(true);
    const owned = await s.midlands.search('Task', { 'owner:identifier': ods(EXAMPLE.performerOds) });
    expect(owned.resources.map((r) => r.id).sort()).toEqual([midlandsTask.id, created.resource.id].sort());
    const rows = hapiRows(db as PostgresDatabase);
    expect(rows.resourcesByPartition.midlands).toBe((before.rows.resourcesByPartition.midlands ?? 0) + 1);
  });
});
