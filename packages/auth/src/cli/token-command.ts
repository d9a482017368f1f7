import { parseArgs } from 'node:util';
import type { Topology } from '@imaging/config';
import { devTopology, readTopology } from '@imaging/config';
import { isOutcomeError } from '@imaging/fhir';
import { defaultDataDir, ensureDevCredentials } from '../dev-credentials.ts';
import type { FetchLike } from '../remote-keys.ts';
import { devTokenSource } from '../token-source.ts';

export const TOPOLOGY_ENV = 'IMAGING_TOPOLOGY';
export const HUB_URL_ENV = 'IMAGING_HUB_URL';

const USAGE = 'Usage: token <client-id> [--scope "system/Task.rs ..."] [--hub http://127.0.0.1:4000]';

export interface TokenCommandIo {
  env: Record<string, string | undefined>;
  out: (text: string) => void;
  err: (text: string) => void;
  fetch?: FetchLike;
}

/**
 * `token <client-id>`: prints a dev client's access token, and only that, on stdout (so it can go in
 * `$(...)`); anything else goes to stderr. Returns the exit code: 0, 1 when no token was had, 2 for
 * bad usage or an unknown client.
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
  let topology: Topology;
  try {
    const file = io.env[TOPOLOGY_ENV];
    topology = file ? readTopology(file) : devTopology();
  } catch (err) {
    io.err(`${(err as Error).message}\n`);
    return 2;
  }
  if (!topology.clients.some((c) => c.id === clientId)) {
    io.err(`Unknown client '${clientId}'. Known clients: ${topology.clients.map((c) => c.id).join(', ')}\n`);
    return 2;
  }
  const hubUrl = args.values.hub ?? io.env[HUB_URL_ENV] ?? topology.hub.url;
  const dataDir = defaultDataDir(io.env);
  try {
    await ensureDevCredentials(topology, dataDir);
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

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: { scope: { type: 'string' }, hub: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
}
