import { NHS_NUMBER_SYSTEM } from '@imaging/fhir';
import type { DemoContext } from './steps.ts';
import { topologyFile } from './world.ts';

/** How to reach the running topology: URLs, and copy-paste commands for a token and an API call. */
export function explorationGuide(ctx: DemoContext): string {
  const { topology, dataDir, ids } = ctx;
  const url = (id: string) => `${topology.regions.find((r) => r.id === id)?.url}/fhir`;
  const nhs = encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${ids.nhsNumber}`);
  const storeOf = (name: string) =>
    ctx.options.hapiUrl ? `${ctx.options.hapiUrl}/${name}` : `${dataDir}/${name}/fhir.sqlite`;
  const rows = [
    [
      'national hub',
      `${topology.hub.url}/fhir`,
      `token ${topology.hub.url}/oauth2/token, JWKS ${topology.hub.url}/.well-known/jwks.json`,
      storeOf('hub'),
    ],
    ...topology.regions.map((r) => [`${r.id} gateway`, `${r.url}/fhir`, `${r.serviceId}`, storeOf(r.id)]),
  ];
  return [
    '',
    'The topology is still running. Ctrl-C stops every process.',
    '',
    ...rows.map(
      ([name, base, extra, store]) =>
        `  ${(name as string).padEnd(17)} ${(base as string).padEnd(29)} ${extra}\n  ${''.padEnd(17)} store ${store}`,
    ),
    `  ${'logs'.padEnd(17)} ${dataDir}/logs/`,
    ...(ctx.flowView
      ? ['', `  ${'flow view'.padEnd(17)} ${ctx.flowView.url}   the flow live, cases, and buttons to drive the demo`]
      : []),
    '',
    'Get a token (SMART Backend Services, signed with the dev key in the data dir) and call the API:',
    '',
    `  export IMAGING_DATA_DIR=${dataDir} IMAGING_TOPOLOGY=${topologyFile(dataDir)}`,
    '  TOKEN=$(pnpm -s token gp-n81001)        # or, with only npm: TOKEN=$(npm run -s token -- gp-n81001)',
    `  curl -s -H "Authorization: Bearer $TOKEN" '${url('north')}/Task?_count=5'`,
    `  curl -s -H "Authorization: Bearer $TOKEN" '${url('north')}/DiagnosticReport?identifier=${encodeURIComponent(`https://imaging-connect.example/fhir/Id/report|${ids.report}`)}'`,
    '',
    '  TOKEN=$(pnpm -s token ris-rm1)',
    `  curl -s -H "Authorization: Bearer $TOKEN" '${url('midlands')}/Task?status=requested'`,
    '',
    '  TOKEN=$(pnpm -s token flow-view)       # paste it at the flow view\'s "Sign in" to open a case',
    '',
    '  TOKEN=$(pnpm -s token clinician-rs1)',
    `  curl -s -H "Authorization: Bearer $TOKEN" '${topology.hub.url}/fhir/DocumentReference?subject:identifier=${nhs}'`,
    '',
    `  curl -s '${url('south')}/metadata'     # open: no token needed for metadata and /health`,
    '',
  ].join('\n');
}
