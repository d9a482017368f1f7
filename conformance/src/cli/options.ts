import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { parseArgs } from 'node:util';
import type { ActorRole, SuiteOptions } from '../suite/meta.ts';
import { ACTOR_ROLES } from '../suite/meta.ts';
import type { HapiDatabase, HapiMode } from '../server/resolve.ts';
import { HAPI_DATABASES, HAPI_MODES } from '../server/resolve.ts';

export const USAGE = `Usage: pnpm conformance [options]

  (no options)            start HAPI FHIR (a container through testcontainers where a runtime works,
                          else the launcher jar), run groups 1-4, 6 and 7 against it, and the actor tests
                          (group 5) against our own regional gateway in both roles
  --target <base-url>     run groups 1-4, 6 and 7 against this FHIR server instead (nothing is started);
                          with --actor: the system under test
  --actor <role>          only the actor tests, for one role: ${ACTOR_ROLES.join(' or ')}
                          (without --target: against our own regional gateway, started by the suite)
  --out <dir>             where the reports go (default reports/conformance): junit.xml, report.html,
                          testreport.json
  --hapi <how>            ${HAPI_MODES.join(' | ')}: how to start HAPI when no --target is given (default auto)
  --db <database>         ${HAPI_DATABASES.join(' | ')}: what the HAPI the suite starts stores in (default h2).
                          postgres: a fresh database on the local PostgreSQL (PGHOST, PGPORT, PGUSER,
                          PGPASSWORD; default 127.0.0.1:5432 as postgres), HAPI from the launcher jar,
                          the database dropped at the end. Repeatable: one run per database, one after
                          the other, reports in <out>/<database>/ (the actor, attack-surface and
                          clinical-safety groups run in the first only)
  --group <n>             run only group n (1-7); repeatable
  --hub-port <port>       actor tests: the port of the suite's stand-in national hub (default 4900)
  --hub-host <host>       actor tests: the host it listens on and is reached at (default 127.0.0.1)
  --sut-jwks-uri <url>    actor tests: the jwks_uri the system under test signs its hub requests with
                          (default: a dev key the suite makes, see conformance/README.md)
  --actor-timeout <s>     actor tests: how long the system under test may take to work an order (default 300)
  --simulate-ris          actor tests, imaging-provider with --target: the suite's RIS/PACS simulator works
                          the order through the system's FHIR API (as client ris-rm1), instead of waiting
                          for the system's own RIS
  -h, --help              this text`;

export class UsageError extends Error {
  constructor(message: string) {
    super(`${message}\n\n${USAGE}`);
    this.name = 'UsageError';
  }
}

export interface CliOptions {
  target?: string;
  actor?: ActorRole;
  outDir: string;
  hapi: HapiMode;
  /** The databases to run HAPI on, one run each, in order; empty when the suite starts no HAPI. */
  databases: HapiDatabase[];
  groups: number[];
  hubPort: number;
  hubHost: string;
  sutJwksUri?: string;
  actorTimeoutSeconds: number;
  simulateRis: boolean;
}

export const DEFAULT_OUT_DIR = 'reports/conformance';
export const DEFAULT_HUB_PORT = 4900;
export const GROUP_NUMBERS = [1, 2, 3, 4, 5, 6, 7] as const;

/** Parses the command line; `undefined` means `--help`. Every problem is a UsageError naming it. */
export function parseCliArgs(argv: readonly string[], cwd: string = process.cwd()): CliOptions | undefined {
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  const config = {
    args,
    allowPositionals: false,
    strict: true,
    options: {
      target: { type: 'string' },
      actor: { type: 'string' },
      out: { type: 'string' },
      hapi: { type: 'string' },
      db: { type: 'string', multiple: true },
      group: { type: 'string', multiple: true },
      'hub-port': { type: 'string' },
      'hub-host': { type: 'string' },
      'sut-jwks-uri': { type: 'string' },
      'actor-timeout': { type: 'string' },
      'simulate-ris': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  } satisfies ParseArgsConfig;
  let values: ReturnType<typeof parseArgs<typeof config>>['values'];
  try {
    ({ values } = parseArgs(config));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return undefined;

  const problems: string[] = [];
  let target: string | undefined;
  if (values.target !== undefined) {
    target = httpUrl(values.target);
    if (!target)
      problems.push(`--target must be an http(s) URL such as http://127.0.0.1:8080/fhir, not '${values.target}'`);
  }
  let actor: ActorRole | undefined;
  if (values.actor !== undefined) {
    if ((ACTOR_ROLES as readonly string[]).includes(values.actor)) actor = values.actor as ActorRole;
    else problems.push(`--actor must be one of ${ACTOR_ROLES.join(', ')}, not '${values.actor}'`);
  }
  const hapi = (values.hapi ?? 'auto') as HapiMode;
  if (!HAPI_MODES.includes(hapi)) problems.push(`--hapi must be one of ${HAPI_MODES.join(', ')}, not '${values.hapi}'`);
  if (values.hapi !== undefined && (target || actor))
    problems.push('--hapi only applies when the suite starts HAPI: not with --target or --actor');
  const databases: HapiDatabase[] = [];
  for (const db of values.db ?? []) {
    if (!(HAPI_DATABASES as readonly string[]).includes(db))
      problems.push(`--db must be one of ${HAPI_DATABASES.join(', ')}, not '${db}'`);
    else if (!databases.includes(db as HapiDatabase)) databases.push(db as HapiDatabase);
  }
  if (values.db !== undefined && (target || actor))
    problems.push('--db only applies when the suite starts HAPI: not with --target or --actor');
  if (databases.includes('postgres') && hapi === 'container')
    problems.push('--db postgres runs HAPI from the launcher jar: use --hapi jar or auto with it');

  const groups: number[] = [];
  for (const g of values.group ?? []) {
    const n = Number(g);
    if (!(GROUP_NUMBERS as readonly number[]).includes(n))
      problems.push(`--group must be one of ${GROUP_NUMBERS.join(', ')}, not '${g}'`);
    else if (!groups.includes(n)) groups.push(n);
  }
  if (actor && groups.some((g) => g !== 5))
    problems.push('--actor runs only the actor tests (group 5): leave out --group, or use --group 5');

  const hubPort = values['hub-port'] === undefined ? DEFAULT_HUB_PORT : Number(values['hub-port']);
  if (!Number.isInteger(hubPort) || hubPort < 1 || hubPort > 65535)
    problems.push(`--hub-port must be a port from 1 to 65535, not '${values['hub-port']}'`);
  const hubHost = values['hub-host'] ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.-]+$/.test(hubHost))
    problems.push(`--hub-host must be a host name or IPv4 address, not '${hubHost}'`);

  let sutJwksUri: string | undefined;
  if (values['sut-jwks-uri'] !== undefined) {
    sutJwksUri = httpUrl(values['sut-jwks-uri']);
    if (!sutJwksUri) problems.push(`--sut-jwks-uri must be an http(s) URL, not '${values['sut-jwks-uri']}'`);
    if (!actor || !target)
      problems.push('--sut-jwks-uri only applies to a vendor system: use it with --actor and --target');
  }
  const actorTimeoutSeconds = values['actor-timeout'] === undefined ? 300 : Number(values['actor-timeout']);
  if (!Number.isFinite(actorTimeoutSeconds) || actorTimeoutSeconds < 5 || actorTimeoutSeconds > 86_400) {
    problems.push(`--actor-timeout must be a number of seconds from 5 to 86400, not '${values['actor-timeout']}'`);
  }
  if (values['simulate-ris'] && !(actor === 'imaging-provider' && target)) {
    problems.push(
      '--simulate-ris only applies to a vendor imaging provider: use it with --actor imaging-provider and --target',
    );
  }
  if (problems.length) throw new UsageError(problems.join('\n'));

  return {
    ...(target ? { target } : {}),
    ...(actor ? { actor } : {}),
    outDir: resolve(cwd, values.out ?? DEFAULT_OUT_DIR),
    hapi,
    databases: target || actor ? [] : databases.length ? databases : ['h2'],
    groups: actor ? [5] : groups.sort(),
    hubPort,
    hubHost,
    ...(sutJwksUri ? { sutJwksUri } : {}),
    actorTimeoutSeconds,
    simulateRis: values['simulate-ris'] ?? false,
  };
}

function httpUrl(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    if (url.search || url.hash) return undefined;
    return value.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

/** One vitest run of the suite: one server (and database), its groups, its own reports. */
export interface Pass {
  /** What the HAPI this run starts stores in; null when the suite starts none (--target, --actor). */
  database: HapiDatabase | null;
  /** The groups to run; empty means every group. */
  groups: number[];
  outDir: string;
}

/**
 * The runs one command makes: one per database, in the order given, each reporting in `<out>/<database>`;
 * the actor tests (group 5) use no HAPI, so only the first run has them, as it has the attack surface (6) and
 * the clinical safety scenarios (7). With --target or --actor: one
 * run, reporting in `<out>`.
 */
export function passesOf(options: Pick<CliOptions, 'databases' | 'groups' | 'outDir'>): Pass[] {
  if (!options.databases.length) return [{ database: null, groups: options.groups, outDir: options.outDir }];
  const all = options.groups.length ? options.groups : [...GROUP_NUMBERS];
  return options.databases
    .map((database, i) => ({
      database,
      // The actor tests (5) use no HAPI, and the attack surface (6) and the clinical safety scenarios (7)
      // are properties of the services, not of HAPI's database: they run in the first pass only.
      groups: i === 0 ? options.groups : all.filter((g) => g !== 5 && g !== 6 && g !== 7),
      outDir: join(options.outDir, database),
    }))
    .filter((pass, i) => i === 0 || pass.groups.length > 0);
}

/**
 * The environment the suite's vitest run reads (the CLI sets it; `pnpm vitest run --project conformance`
 * with the same variables runs the same suite).
 */
export function suiteEnvironment(options: CliOptions, pass: Pass, workRoot: string): Record<string, string> {
  const runId = `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`;
  return {
    CONFORMANCE_RUN_ID: runId,
    CONFORMANCE_WORK_DIR: join(workRoot, runId),
    CONFORMANCE_HAPI: options.hapi,
    CONFORMANCE_DB: pass.database ?? 'h2',
    CONFORMANCE_HUB_PORT: String(options.hubPort),
    CONFORMANCE_HUB_HOST: options.hubHost,
    CONFORMANCE_ACTOR_TIMEOUT: String(options.actorTimeoutSeconds),
    CONFORMANCE_GROUPS: (pass.groups.length ? pass.groups : GROUP_NUMBERS).join(','),
    ...(options.target ? { CONFORMANCE_TARGET: options.target } : {}),
    ...(options.actor ? { CONFORMANCE_ACTOR: options.actor } : {}),
    ...(options.sutJwksUri ? { CONFORMANCE_SUT_JWKS_URI: options.sutJwksUri } : {}),
    ...(options.simulateRis ? { CONFORMANCE_SIMULATE_RIS: 'true' } : {}),
  };
}

/** The suite's options from its environment, with the CLI's defaults where a variable is unset. */
export function suiteOptionsFromEnv(env: Record<string, string | undefined>, defaultWorkRoot: string): SuiteOptions {
  const runId = env.CONFORMANCE_RUN_ID ?? `run-${Date.now()}`;
  const actor = env.CONFORMANCE_ACTOR;
  if (actor !== undefined && !(ACTOR_ROLES as readonly string[]).includes(actor)) {
    throw new Error(`CONFORMANCE_ACTOR must be one of ${ACTOR_ROLES.join(', ')}, not '${actor}'`);
  }
  const hubPort = Number(env.CONFORMANCE_HUB_PORT ?? DEFAULT_HUB_PORT);
  const timeout = Number(env.CONFORMANCE_ACTOR_TIMEOUT ?? 300);
  return {
    actor: (actor as ActorRole | undefined) ?? null,
    actorTarget: actor ? (env.CONFORMANCE_TARGET ?? null) : null,
    hubHost: env.CONFORMANCE_HUB_HOST ?? '127.0.0.1',
    hubPort: Number.isInteger(hubPort) ? hubPort : DEFAULT_HUB_PORT,
    sutJwksUri: env.CONFORMANCE_SUT_JWKS_URI ?? null,
    simulateRis: env.CONFORMANCE_SIMULATE_RIS === 'true',
    actorTimeoutMs: (Number.isFinite(timeout) ? timeout : 300) * 1000,
    workDir: env.CONFORMANCE_WORK_DIR ?? join(defaultWorkRoot, runId),
    runId,
    groups: actor ? [5] : groupsFrom(env.CONFORMANCE_GROUPS),
  };
}

function groupsFrom(value: string | undefined): number[] {
  const groups = (value ?? '')
    .split(',')
    .map((g) => Number(g.trim()))
    .filter((g) => (GROUP_NUMBERS as readonly number[]).includes(g));
  return groups.length ? groups : [...GROUP_NUMBERS];
}

/** vitest file filters for the selected groups (none: every file of the suite). */
export function fileFilters(options: Pick<CliOptions, 'actor' | 'groups'>): string[] {
  if (options.actor) return [`src/groups/5-actor/${options.actor}.test.ts`];
  return options.groups.map((g) => `src/groups/${g}-`);
}
