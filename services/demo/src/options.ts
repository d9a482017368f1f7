import { resolve } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { parseArgs } from 'node:util';

export interface DemoOptions {
  /** Leave the topology running after the scenario, until Ctrl-C. */
  explore: boolean;
  /** Run the reference scenario; without it, only start the topology (explore mode: a clean topology to try the API on). */
  scenario: boolean;
  /** A HAPI FHIR base (e.g. http://127.0.0.1:8080/fhir): services store in its partitions hub, north… */
  hapiUrl?: string;
  /** The hub's port; the gateways listen on +101, +102, +103. */
  portBase: number;
  /** Where keys, logs, the topology file and the embedded stores go; wiped at start. */
  dataDir: string;
  host: string;
}

export const DEFAULT_PORT_BASE = 4000;

export const USAGE = `Usage: npm run demo -- [--explore] [--no-scenario] [--hapi <FHIR base>] [--port-base <port>] [--data-dir <dir>]
  --explore          serve the flow view on n+100, and leave everything running after the scenario (Ctrl-C stops it)
  --no-scenario      start the hub, the gateways and the flow view with empty stores and leave them running (implies --explore)
  --hapi <url>       the services store in a HAPI FHIR server: <url>/hub, <url>/north, <url>/midlands, <url>/south
  --port-base <n>    the hub listens on n, the gateways on n+101..n+103 and the flow view on n+100 (default ${DEFAULT_PORT_BASE})
  --data-dir <dir>   keys, logs and embedded stores (default .data/demo; wiped at start)`;

/**
 * Ports `fetch` refuses to connect to (the WHATWG Fetch standard's "bad ports"), among those a port
 * base could give: the demo and the services call each other with fetch.
 */
const BAD_PORTS = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110,
  111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532,
  540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061,
  6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

export class UsageError extends Error {
  constructor(message: string) {
    super(`${message}\n${USAGE}`);
    this.name = 'UsageError';
  }
}

/** Parses the demo's command line; `undefined` means `--help`. */
export function parseDemoArgs(argv: string[], repoRoot: string): DemoOptions | undefined {
  // `npm run demo -- --explore` may hand the separator on.
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  const config = {
    args,
    allowPositionals: false,
    options: {
      explore: { type: 'boolean', default: false },
      'no-scenario': { type: 'boolean', default: false },
      hapi: { type: 'string' },
      'port-base': { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  } satisfies ParseArgsConfig;
  let parsed: ReturnType<typeof parseArgs<typeof config>>;
  try {
    parsed = parseArgs(config);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values } = parsed;
  if (values.help) return undefined;

  const portBase = values['port-base'] === undefined ? DEFAULT_PORT_BASE : Number(values['port-base']);
  if (!Number.isInteger(portBase) || portBase < 1 || portBase + 103 > 65535) {
    throw new UsageError(`--port-base must be a port from 1 to ${65535 - 103}, not '${values['port-base']}'`);
  }
  const explore = values.explore || values['no-scenario'];
  const ports = [portBase, portBase + 101, portBase + 102, portBase + 103, ...(explore ? [portBase + 100] : [])];
  const bad = ports.filter((p) => BAD_PORTS.has(p));
  if (bad.length)
    throw new UsageError(
      `--port-base ${portBase} gives port ${bad.join(', ')}, which fetch() refuses to connect to (a "bad port" of the Fetch standard): choose another`,
    );
  let hapiUrl: string | undefined;
  if (values.hapi !== undefined) {
    let url: URL;
    try {
      url = new URL(values.hapi);
    } catch {
      throw new UsageError(`--hapi must be an http(s) URL such as http://127.0.0.1:8080/fhir, not '${values.hapi}'`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new UsageError(`--hapi must be an http(s) URL, not '${values.hapi}'`);
    hapiUrl = values.hapi.replace(/\/+$/, '');
  }
  return {
    explore,
    scenario: !values['no-scenario'],
    ...(hapiUrl ? { hapiUrl } : {}),
    portBase,
    dataDir: resolve(values['data-dir'] ?? resolve(repoRoot, '.data', 'demo')),
    host: '127.0.0.1',
  };
}
