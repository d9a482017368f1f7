import { existsSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { FetchLike } from '@imaging/auth';
import { DATA_DIR_ENV, defaultDataDir, devKeyFile, devTokenSource } from '@imaging/auth';
import type { Topology } from '@imaging/config';
import { devTopology, readTopology } from '@imaging/config';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { parseQuarter } from '../domain/quarter.ts';
import { LEARNING_REPORT_FORMATS, LEARNING_REPORT_SCOPE } from '../routes/learning-report.ts';

const TOPOLOGY_ENV = 'IMAGING_TOPOLOGY';
const HUB_URL_ENV = 'IMAGING_HUB_URL';

const USAGE = [
  'Usage: learning-report --org <ODS> --quarter <YYYY-Qn> [--format json|csv|html] [--out <file>] [--client <id>]',
  "  Asks the gateway of the organisation's region for its learning report (GET /fhir/$learning-report),",
  `  with a token of a client holding the scope ${LEARNING_REPORT_SCOPE}: by default the organisation's own.`,
  '  Quarters are calendar quarters: 2026-Q3 is July to September 2026. Without --out, the report goes to stdout.',
  `  ${DATA_DIR_ENV}   the data dir the hub made the dev keys in (default: <repo>/.data)`,
  `  ${TOPOLOGY_ENV}   the topology file (default: <data dir>/topology.json if there, else the development one)`,
  `  ${HUB_URL_ENV}    the hub (default: the topology's)`,
].join('\n');

export interface LearningReportIo {
  env: Record<string, string | undefined>;
  out: (text: string) => void;
  err: (text: string) => void;
  cwd?: string;
  fetch?: FetchLike;
}

/** Bad usage or set-up: said on stderr with the usage, exit code 2, before anything is fetched. */
class UsageError extends Error {}

const ODS = /^[A-Z0-9]{3,10}$/;

/**
 * `learning-report`: fetches an organisation's learning report from its region's gateway, as a client of
 * that organisation (or `--client`), and prints it or writes it to `--out`. Exit code 0; 1 when the
 * gateway or the hub refused or could not be reached; 2 for bad arguments or set-up.
 */
export async function runLearningReportCommand(argv: string[], io: LearningReportIo): Promise<number> {
  let plan: ReturnType<typeof planOf>;
  try {
    plan = planOf(argv, io);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (plan === 'help') {
    io.err(`${USAGE}\n`);
    return 0;
  }
  const url = `${plan.gatewayUrl}/fhir/$learning-report?${new URLSearchParams({
    organization: plan.org,
    quarter: plan.quarter,
    _format: plan.format,
  })}`;
  let response: Response;
  try {
    const source = await devTokenSource(plan.client, {
      hubUrl: plan.hubUrl,
      dataDir: plan.dataDir,
      scope: LEARNING_REPORT_SCOPE,
      ...(io.fetch ? { fetch: io.fetch } : {}),
    });
    const token = await source.getToken();
    response = await (io.fetch ?? fetch)(url, { headers: { Authorization: `Bearer ${token}` } });
  } catch (err) {
    io.err(
      `No report: ${(err as Error).message} (are the hub at ${plan.hubUrl} and the gateway at ${plan.gatewayUrl} running?)\n`,
    );
    return 1;
  }
  const body = await response.text();
  if (response.status !== 200) {
    io.err(`The gateway answered ${response.status}: ${problemsOf(body)}\n`);
    return 1;
  }
  if (plan.out) {
    writeFileSync(plan.out, body);
    io.err(`Wrote ${plan.out}\n`);
  } else io.out(body.endsWith('\n') ? body : `${body}\n`);
  return 0;
}

function problemsOf(body: string): string {
  try {
    const outcome = JSON.parse(body) as OperationOutcome;
    return (outcome.issue ?? []).map((i) => i.diagnostics ?? i.details?.text ?? i.code).join('; ') || body;
  } catch {
    return body.slice(0, 500);
  }
}

function planOf(argv: string[], io: LearningReportIo) {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values } = args;
  if (values.help) return 'help' as const;
  if (args.positionals.length) throw new UsageError(`Unexpected argument '${args.positionals[0]}'`);
  const problems: string[] = [];
  const org = values.org ?? '';
  if (!org) problems.push('--org is required: the ODS code of the organisation, e.g. N81001');
  else if (!ODS.test(org)) problems.push(`--org '${org}' is not an ODS code (3-10 upper-case letters or digits)`);
  const quarter = values.quarter ?? '';
  if (!quarter) problems.push('--quarter is required, e.g. 2026-Q3 (July to September 2026)');
  else if (!parseQuarter(quarter)) problems.push(`--quarter '${quarter}' is not a quarter: YYYY-Qn, n from 1 to 4`);
  const format = values.format ?? 'json';
  if (!(LEARNING_REPORT_FORMATS as readonly string[]).includes(format))
    problems.push(`--format '${format}' is not json, csv or html`);
  if (problems.length) throw new UsageError(problems.join('\n'));
  const from = io.env.INIT_CWD ?? io.cwd ?? process.cwd();
  const at = (path: string) => (isAbsolute(path) ? path : resolve(from, path));
  const dataDir = io.env[DATA_DIR_ENV] ? at(io.env[DATA_DIR_ENV] as string) : defaultDataDir({});
  const topology = topologyOf(io.env, at, dataDir);
  const organisation = topology.organisations.find((o) => o.ods === org);
  if (!organisation) throw new UsageError(`The topology has no organisation ${org}`);
  const client = values.client ?? defaultClient(topology, org);
  const registered = topology.clients.find((c) => c.id === client);
  if (!registered) throw new UsageError(`Unknown client '${client}'`);
  if (!registered.scopes.includes(LEARNING_REPORT_SCOPE))
    throw new UsageError(`Client ${client} is not registered for the scope ${LEARNING_REPORT_SCOPE}`);
  if (!existsSync(devKeyFile(dataDir, client)))
    throw new UsageError(`No key for ${client} in ${dataDir}: is ${DATA_DIR_ENV} the data dir the hub uses?`);
  const region = topology.regions.find((r) => r.id === organisation.region);
  if (!region) throw new UsageError(`The topology has no region ${organisation.region}`);
  return {
    org,
    quarter,
    format,
    client,
    dataDir,
    out: values.out ? at(values.out) : undefined,
    hubUrl: io.env[HUB_URL_ENV] ?? topology.hub.url,
    gatewayUrl: region.url,
  };
}

/** The organisation's own client that may read its learning report. */
function defaultClient(topology: Topology, org: string): string {
  const own = topology.clients.filter((c) => c.organisation === org && c.scopes.includes(LEARNING_REPORT_SCOPE));
  if (own.length === 1) return (own[0] as { id: string }).id;
  throw new UsageError(
    own.length
      ? `${org} has several clients with ${LEARNING_REPORT_SCOPE} (${own.map((c) => c.id).join(', ')}): choose one with --client`
      : `${org} has no client with the scope ${LEARNING_REPORT_SCOPE}: name one with --client`,
  );
}

function topologyOf(env: LearningReportIo['env'], at: (path: string) => string, dataDir: string): Topology {
  const given = env[TOPOLOGY_ENV];
  const file = given ? at(given) : join(dataDir, 'topology.json');
  if (!existsSync(file)) {
    if (!given) return devTopology();
    throw new UsageError(`No topology file at ${file} (${TOPOLOGY_ENV}=${given})`);
  }
  try {
    return readTopology(file);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      org: { type: 'string' },
      quarter: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
      client: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
