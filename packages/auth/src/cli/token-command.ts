import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Topology } from '@imaging/config';
import { devTopology, readTopology } from '@imaging/config';
import { isOutcomeError } from '@imaging/fhir';
import { DATA_DIR_ENV, defaultDataDir, devKeyFile } from '../dev-credentials.ts';
import type { FetchLike } from '../remote-keys.ts';
import { devTokenSource } from '../token-source.ts';

export const TOPOLOGY_ENV = 'IMAGING_TOPOLOGY';
export const HUB_URL_ENV = 'IMAGING_HUB_URL';

const USAGE = [
  'Usage: token <client-id> [--scope "system/Task.rs ..."] [--hub http://127.0.0.1:4000]',
  `  ${DATA_DIR_ENV}   the data dir the hub made the dev keys in (default: <repo>/.data)`,
  `  ${TOPOLOGY_ENV}   the topology file (default: <data dir>/topology.json if there, else the development one)`,
  `  ${HUB_URL_ENV}    the hub (default: the topology's)`,
  'Relative paths are taken from the directory the command was run in.',
].join('\n');

export interface TokenCommandIo {
  env: Record<string, string | undefined>;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Where the command runs; relative paths resolve from `INIT_CWD` (where npm or pnpm was run), else here. */
  cwd?: string;
  fetch?: FetchLike;
}

/** A set-up problem: said on stderr, with exit code 2. */
class SetUpError extends Error {}

/**
 * `token <client-id>`: prints a dev client's access token, and only that, on stdout (so it can go in
 * `$(...)`); anything else goes to stderr. It only reads: the client's key must already be in the data
 * dir (the hub or the demo made it), and nothing is ever written. Returns the exit code: 0; 1 when the
 * hub gave no token; 2 for bad usage, an unknown client, or a missing data dir, topology or key.
 */
export async function runTokenCommand(argv: string[], io: TokenCommandIo): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.values.help) {
    io.err(`${USAGE}\n`);
    return 0;
  }
  const [clientId, ...extra] = args.positionals;
  if (!clientId || extra.length) {
    io.err(`${USAGE}\n`);
    return 2;
  }
  let dataDir: string;
  let topology: Topology;
  try {
    // npm and pnpm run the command in the package's directory; the paths a user typed are relative to theirs.
    const from = io.env.INIT_CWD ?? io.cwd ?? process.cwd();
    dataDir = dataDirOf(io.env, from);
    topology = topologyOf(io.env, from, dataDir);
    if (!topology.clients.some((c) => c.id === clientId)) {
      throw new SetUpError(
        `Unknown client '${clientId}'. Known clients: ${topology.clients.map((c) => c.id).join(', ')}`,
      );
    }
    const keyFile = devKeyFile(dataDir, clientId);
    if (!existsSync(keyFile)) {
      throw new SetUpError(
        `No key for ${clientId} in ${dataDir} (${keyFile}): the hub makes the dev keys when it starts; ` +
          `is ${DATA_DIR_ENV} the data dir the hub uses?`,
      );
    }
  } catch (err) {
    if (!(err instanceof SetUpError)) throw err;
    io.err(`${err.message}\n`);
    return 2;
  }
  const hubUrl = args.values.hub ?? io.env[HUB_URL_ENV] ?? topology.hub.url;
  try {
    const source = await devTokenSource(clientId, {
      hubUrl,
      dataDir,
      ...(args.values.scope ? { scope: args.values.scope } : {}),
      ...(io.fetch ? { fetch: io.fetch } : {}),
    });
    io.out(`${await source.getToken()}\n`);
    return 0;
  } catch (err) {
    const hint = isOutcomeError(err) && err.status === 503 ? ` (is the hub running at ${hubUrl}?)` : '';
    io.err(`No token for ${clientId}: ${(err as Error).message}${hint}\n`);
    return 1;
  }
}

function dataDirOf(env: Record<string, string | undefined>, from: string): string {
  const given = env[DATA_DIR_ENV];
  const dir = given ? resolveFrom(from, given) : defaultDataDir({});
  if (!isDirectory(dir)) {
    throw new SetUpError(
      `No data dir at ${dir}${given ? ` (${DATA_DIR_ENV}=${given})` : ''}: start the hub or the demo first ` +
        `(npm run demo -- --explore prints the ${DATA_DIR_ENV} to use), or set ${DATA_DIR_ENV} to the hub's data dir`,
    );
  }
  return dir;
}

function topologyOf(env: Record<string, string | undefined>, from: string, dataDir: string): Topology {
  const given = env[TOPOLOGY_ENV];
  const file = given ? resolveFrom(from, given) : join(dataDir, 'topology.json');
  if (!existsSync(file)) {
    if (!given) return devTopology();
    throw new SetUpError(`No topology file at ${file} (${TOPOLOGY_ENV}=${given})`);
  }
  try {
    return readTopology(file);
  } catch (err) {
    throw new SetUpError((err as Error).message);
  }
}

const resolveFrom = (from: string, path: string) => (isAbsolute(path) ? path : resolve(from, path));

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: { scope: { type: 'string' }, hub: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
}
