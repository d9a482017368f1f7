import { isAbsolute, relative } from 'node:path';
import { NHS_NUMBER_SYSTEM, SYSTEMS } from '@imaging/fhir';
import type { DemoContext } from './steps.ts';
import { REPO_ROOT, topologyFile } from './world.ts';

/** A path as typed from the repo root: relative when it lies inside the repo. */
export function fromRepoRoot(path: string): string {
  const inside = relative(REPO_ROOT, path);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path;
}

/**
 * How to reach the running topology: URLs, and commands for a token and an API call that work from the
 * repo root with npm alone (the token command resolves relative paths from where `npm run` is run).
 */
export function explorationGuide(ctx: DemoContext): string {
  const { topology, dataDir, ids } = ctx;
  const url = (id: string) => `${topology.regions.find((r) => r.id === id)?.url}/fhir`;
  const storeOf = (name: string) =>
    ctx.options.hapiUrl ? `${ctx.options.hapiUrl}/${name}` : `${fromRepoRoot(dataDir)}/${name}/fhir.sqlite`;
  const rows = [
    [
      'national hub',
      `${topology.hub.url}/fhir`,
      `token ${topology.hub.url}/oauth2/token, JWKS ${topology.hub.url}/.well-known/jwks.json`,
      storeOf('hub'),
    ],
    ...topology.regions.map((r) => [`${r.id} gateway`, `${r.url}/fhir`, `${r.serviceId}`, storeOf(r.id)]),
  ];
  const token = (client: string) => `  TOKEN=$(npm run -s token -- ${client})`;
  const get = (target: string) => `  curl -s -H "Authorization: Bearer $TOKEN" '${target}'`;
  const query = (system: string, value: string) => encodeURIComponent(`${system}|${value}`);
  // The scenario's own report and patient, when it ran; a clean topology has none yet.
  const scenarioOnly = (...lines: string[]) => (ctx.options.scenario ? lines : []);
  return [
    '',
    'The topology is still running. Ctrl-C stops every process.',
    '',
    ...rows.map(
      ([name, base, extra, store]) =>
        `  ${(name as string).padEnd(17)} ${(base as string).padEnd(29)} ${extra}\n  ${''.padEnd(17)} store ${store}`,
    ),
    `  ${'logs'.padEnd(17)} ${fromRepoRoot(dataDir)}/logs/`,
    ...(ctx.flowView
      ? ['', `  ${'flow view'.padEnd(17)} ${ctx.flowView.url}   the flow live, cases, and buttons to drive the demo`]
      : []),
    '',
    'Get a token (SMART Backend Services, signed with the dev key in the data dir) and call the API, from the repo root:',
    '',
    `  export IMAGING_DATA_DIR=${fromRepoRoot(dataDir)} IMAGING_TOPOLOGY=${fromRepoRoot(topologyFile(dataDir))}`,
    token('gp-n81001'),
    get(`${url('north')}/Task?_count=5`),
    get(`${url('north')}/ServiceRequest?_revinclude=Task:focus`),
    ...scenarioOnly(get(`${url('north')}/DiagnosticReport?identifier=${query(SYSTEMS.report, ids.report)}`)),
    '',
    token('ris-rm1'),
    get(`${url('midlands')}/Task?status=requested`),
    ...(ctx.flowView ? ['', `${token('flow-view')}   # paste it at the flow view's "Sign in" to open a case`] : []),
    ...scenarioOnly(
      '',
      token('clinician-rs1'),
      get(`${topology.hub.url}/fhir/DocumentReference?subject:identifier=${query(NHS_NUMBER_SYSTEM, ids.nhsNumber)}`),
    ),
    '',
    `  curl -s '${url('south')}/metadata'     # open: no token needed for metadata and /health`,
    '',
    'Every request of the API, with its body and its answer: docs/api.md (run it on a clean topology: --no-scenario).',
    '',
  ].join('\n');
}
