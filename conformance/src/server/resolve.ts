import type { CapabilityStatement } from '@medplum/fhirtypes';
import { randomInt } from 'node:crypto';
import type { ServerKind } from '../deviations.ts';
import {
  detectContainerRuntime,
  hasImage,
  localImageVersion,
  runInfraScript,
  setUpPodmanAsRoot,
} from './container-runtime.ts';
import type { ContainerRuntime } from './container-runtime.ts';
import { HapiFhirContainer, LOCAL_HAPI_IMAGE_NAME, OFFICIAL_HAPI_IMAGE, PARTITIONS } from './hapi-container.ts';
import { startHapiJar } from './hapi-jar.ts';
import type { PostgresDatabase } from './postgres.ts';
import {
  createRunDatabase,
  describeRows,
  dropRunDatabase,
  hapiDatabaseEnvironment,
  hapiRows,
  postgresServerFromEnv,
} from './postgres.ts';
import type { DatabaseInfo, ResolvedTarget, TargetInfo } from './types.ts';

export type HapiMode = 'auto' | 'container' | 'jar';
export const HAPI_MODES: readonly HapiMode[] = ['auto', 'container', 'jar'];
/** What the HAPI the suite starts stores in: in-memory H2, or a fresh database on the local PostgreSQL. */
export type HapiDatabase = 'h2' | 'postgres';
export const HAPI_DATABASES: readonly HapiDatabase[] = ['h2', 'postgres'];

export interface ResolveOptions {
  /** A FHIR base URL to test instead of starting HAPI (`--target`). */
  given?: string;
  /** How to start HAPI when none is given: a container where a runtime works, else the jar (`auto`). */
  mode: HapiMode;
  /** Default h2. PostgreSQL runs the jar (on the host, so it reaches the host's PostgreSQL directly). */
  database?: HapiDatabase;
  /** Names the run's PostgreSQL database. */
  runId?: string;
  workDir: string;
  log: (line: string) => void;
  env?: Record<string, string | undefined>;
}

/** The partition groups 1-3 use on a partitioned server. */
export const SUITE_PARTITION = 'conformance';

/**
 * The server under test: the one given, or a HAPI FHIR the suite starts (and will stop) — in a
 * container through testcontainers when a runtime works, else the launcher jar as a plain process.
 */
export async function resolveTarget(options: ResolveOptions): Promise<ResolvedTarget> {
  const { log } = options;
  if (options.given) {
    const info = await describeServer(options.given, 'given', `given: ${options.given}`);
    log(`conformance: target ${info.root} (${info.software}), given by --target`);
    return { info, stop: async () => undefined };
  }
  if (options.database === 'postgres') {
    if (options.mode === 'container')
      throw new Error('HAPI on PostgreSQL runs from the launcher jar: use --hapi jar (or auto) with --db postgres');
    return startJarOnPostgres(options);
  }
  if (options.mode !== 'jar') {
    const started = await tryContainer(options);
    if (started) return started;
  }
  return startJar(options, { kind: 'h2', description: 'in-memory H2' });
}

/** The launcher jar as a plain process on `database`; `cleanUp` runs after it has stopped (or failed to start). */
async function startJar(
  options: ResolveOptions,
  database: DatabaseInfo,
  env: Record<string, string> = {},
  cleanUp: () => Promise<void> = async () => undefined,
): Promise<ResolvedTarget> {
  const { log } = options;
  log(`conformance: starting HAPI FHIR from the launcher jar (infra/hapi-fhir) on ${database.description} ...`);
  let jar: Awaited<ReturnType<typeof startHapiJar>>;
  try {
    jar = await startHapiJar({ workDir: options.workDir, log, env });
  } catch (err) {
    await cleanUp();
    throw err;
  }
  log(`conformance: HAPI FHIR (jar, pid ${jar.pid}) ready at ${jar.baseUrl} after ${seconds(jar.startupMs)} s`);
  const stop = async () => {
    try {
      await jar.stop();
    } finally {
      await cleanUp();
    }
  };
  try {
    const info = await describeServer(
      jar.baseUrl,
      'jar',
      `launcher jar (pid ${jar.pid}, ${database.description}, log ${jar.logFile})`,
      jar.startupMs,
    );
    return { info: { ...info, database }, stop, pid: jar.pid };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * HAPI on a database of its own on the local PostgreSQL, made for this run; when HAPI has stopped, the
 * suite logs what HAPI's tables held and drops that database (only that one), also if the run dies.
 */
async function startJarOnPostgres(options: ResolveOptions): Promise<ResolvedTarget> {
  const { log } = options;
  const db = createRunDatabase(postgresServerFromEnv(options.env ?? process.env), options.runId ?? `run-${Date.now()}`);
  log(`conformance: created PostgreSQL database ${db.database} on ${db.host}:${db.port} (${db.version})`);
  let dropped = false;
  const drop = () => {
    if (dropped) return;
    dropped = true;
    process.off('exit', dropAtExit);
    dropRunDatabase(db);
  };
  // A run that ends without its teardown (an error, process.exit) still leaves no database behind.
  const dropAtExit = () => {
    try {
      drop();
    } catch (err) {
      log(`conformance: could not drop PostgreSQL database ${db.database}: ${(err as Error).message}`);
    }
  };
  process.once('exit', dropAtExit);
  const cleanUp = async () => {
    try {
      log(`conformance: PostgreSQL database ${db.database} held ${describeRows(hapiRows(db))}`);
    } catch (err) {
      log(`conformance: could not count HAPI's rows in ${db.database}: ${(err as Error).message}`);
    }
    drop();
    log(`conformance: dropped PostgreSQL database ${db.database}`);
  };
  return startJar(options, postgresInfo(db), hapiDatabaseEnvironment(db, options.env ?? process.env), cleanUp);
}

function postgresInfo(db: PostgresDatabase): DatabaseInfo {
  return {
    kind: 'postgres',
    description: `${db.version} (${db.jdbcUrl})`,
    postgres: db,
  };
}

async function tryContainer(options: ResolveOptions): Promise<ResolvedTarget | undefined> {
  const { log } = options;
  const env = options.env ?? process.env;
  const runtime = await detectContainerRuntime({ env, setUpPodman: () => setUpPodmanAsRoot(log), log });
  if ('unavailable' in runtime) {
    const why = runtime.unavailable.join('; ');
    if (options.mode === 'container') throw new Error(`--hapi container: no container runtime (${why})`);
    log(`conformance: no container runtime (${why}); using the launcher jar`);
    return undefined;
  }
  try {
    const image = await imageFor(runtime, env, log);
    // testcontainers reads these when it first connects; the reaper container is not used (it needs
    // a registry, and we always stop what we start ourselves).
    process.env.DOCKER_HOST = runtime.dockerHost;
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
    process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
    log(
      `conformance: starting ${image} through testcontainers (${runtime.kind} ${runtime.version}, ${runtime.dockerHost}) ...`,
    );
    const began = performance.now();
    const container = await new HapiFhirContainer(image).start();
    const startupMs = performance.now() - began;
    log(
      `conformance: HAPI FHIR container ${container.getId().slice(0, 12)} ready at ${container.getBaseUrl()} after ${seconds(startupMs)} s`,
    );
    const stop = async () => void (await container.stop({ timeout: 10_000 }));
    try {
      const info = await describeServer(
        container.getBaseUrl(),
        'container',
        `${image} via testcontainers on ${runtime.kind} ${runtime.version}`,
        startupMs,
      );
      const database: DatabaseInfo = {
        kind: 'h2',
        description: image === OFFICIAL_HAPI_IMAGE ? "H2 (the official image's default)" : 'in-memory H2',
      };
      return { info: { ...info, database }, stop };
    } catch (err) {
      await stop();
      throw err;
    }
  } catch (err) {
    if (options.mode === 'container') throw err;
    log(
      `conformance: the container path failed (${(err as Error).message.split('\n')[0]}); falling back to the launcher jar`,
    );
    return undefined;
  }
}

/** Docker with a registry: the official image. Podman only: ours, built from infra/ when missing. */
async function imageFor(
  runtime: ContainerRuntime,
  env: Record<string, string | undefined>,
  log: (line: string) => void,
): Promise<string> {
  if (env.CONFORMANCE_HAPI_IMAGE) return env.CONFORMANCE_HAPI_IMAGE;
  if (runtime.kind === 'docker') return OFFICIAL_HAPI_IMAGE;
  const image = `${LOCAL_HAPI_IMAGE_NAME}:${localImageVersion()}`;
  if (!(await hasImage(runtime, image))) {
    log(`conformance: ${image} is not built yet`);
    if (!(await runInfraScript('build-images.sh', log)) || !(await hasImage(runtime, image))) {
      throw new Error(`infra/podman/build-images.sh did not produce ${image}`);
    }
  }
  return image;
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);

interface Probe {
  status: number;
  text: string;
}

async function probe(url: string, init: RequestInit = {}): Promise<Probe> {
  const res = await fetch(url, {
    ...init,
    headers: {
      Accept: 'application/fhir+json',
      'Cache-Control': 'no-cache',
      ...(init.headers as Record<string, string> | undefined),
    },
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, text: await res.text() };
}

/**
 * What kind of server is at `url`, and where the groups put things: on a HAPI with URL partitions the
 * suite works in its own partition and keeps definitions in DEFAULT; elsewhere everything is at `url`.
 */
export async function describeServer(
  url: string,
  how: TargetInfo['how'],
  detail: string,
  startupMs?: number,
): Promise<TargetInfo> {
  const given = url.replace(/\/+$/, '');
  let metadata: Probe;
  try {
    metadata = await probe(`${given}/metadata`);
  } catch (err) {
    throw new Error(`No FHIR server answers at ${given}: ${(err as Error).message}`);
  }
  if (metadata.status !== 200)
    throw new Error(`${given}/metadata answered ${metadata.status}: is this a FHIR base URL?`);
  let capability: CapabilityStatement;
  try {
    capability = JSON.parse(metadata.text) as CapabilityStatement;
  } catch {
    throw new Error(`${given}/metadata did not answer with JSON`);
  }
  if (capability.resourceType !== 'CapabilityStatement')
    throw new Error(`${given}/metadata answered a ${String(capability.resourceType)}, not a CapabilityStatement`);
  if (capability.fhirVersion && !capability.fhirVersion.startsWith('4.0'))
    throw new Error(`${given} is FHIR ${capability.fhirVersion}; the suite tests FHIR R4 (4.0.x)`);
  const software =
    [capability.software?.name, capability.software?.version].filter(Boolean).join(' ') || 'unknown software';
  const kind: ServerKind = /hapi/i.test(capability.software?.name ?? '') ? 'hapi' : 'other';

  const common = { how, detail, kind, software, ...(startupMs === undefined ? {} : { startupMs }) };
  if (kind === 'hapi' && (await isPartitionedRoot(given))) {
    await ensurePartitions(given, [SUITE_PARTITION]);
    return {
      ...common,
      root: given,
      partitioned: true,
      base: `${given}/${SUITE_PARTITION}`,
      definitionsBase: `${given}/DEFAULT`,
    };
  }
  // A partition's own base (`…/fhir/conformance`): its parent is the root.
  const parent = given.slice(0, given.lastIndexOf('/'));
  if (kind === 'hapi' && parent.includes('://') && (await isPartitionedRoot(parent))) {
    return { ...common, root: parent, partitioned: true, base: given, definitionsBase: `${parent}/DEFAULT` };
  }
  return { ...common, root: given, partitioned: false, base: given, definitionsBase: given };
}

/** A partitioned HAPI root answers a type-level search with 400 (no partition named) and a partition search with 200. */
async function isPartitionedRoot(url: string): Promise<boolean> {
  const atRoot = await probe(`${url}/Patient?_count=0`);
  if (atRoot.status !== 400) return false;
  const atDefault = await probe(`${url}/DEFAULT/Patient?_count=0`);
  return atDefault.status === 200;
}

/** True when `<root>/<name>` is a partition the server knows. */
export async function hasPartition(root: string, name: string): Promise<boolean> {
  const answer = await probe(`${root}/${name}/Patient?_count=0`);
  if (answer.status === 200) return true;
  if (answer.status === 404 || /partition/i.test(answer.text)) return false;
  throw new Error(`${root}/${name}/Patient?_count=0 answered ${answer.status}: ${answer.text.slice(0, 300)}`);
}

/** Creates whichever of `names` are missing, with HAPI's partition management operation. */
export async function ensurePartitions(root: string, names: readonly string[] = PARTITIONS): Promise<string[]> {
  const created: string[] = [];
  for (const name of names) {
    if (await hasPartition(root, name)) continue;
    const body = {
      resourceType: 'Parameters',
      parameter: [
        // Partition ids are small positive integers; a random one avoids ids others chose.
        { name: 'id', valueInteger: randomInt(1_000, 1_000_000) },
        { name: 'name', valueCode: name },
        { name: 'description', valueString: `imaging-connect partition ${name} (made by the conformance suite)` },
      ],
    };
    const answer = await probe(`${root}/$partition-management-create-partition`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/fhir+json' },
    });
    if (answer.status >= 300 && !(await hasPartition(root, name))) {
      throw new Error(`cannot create partition ${name} on ${root}: ${answer.status} ${answer.text.slice(0, 300)}`);
    }
    created.push(name);
  }
  return created;
}
