import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAccessTokenVerifier, ensureDevCredentials, loadClientRegistry, tokenRoutes } from '@imaging/auth';
import { devTopology } from '@imaging/config';
import { backgroundCreates, SqliteStore, silentLogger } from '@imaging/fhir';
import { createFhirApp, pageTokens } from '@imaging/fhir-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../app.ts';
import type { LearningReport } from '../domain/learning-report.ts';
import { learningQuarter } from '../testing/learning.ts';
import { runLearningReportCommand } from './learning-report-command.ts';

const dir = mkdtempSync(join(tmpdir(), 'learning-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const topology = devTopology();
const HUB = topology.hub.url;
const NORTH = topology.regions.find((r) => r.id === 'north')?.url as string;
const fetched: string[] = [];
let fetchStub: (url: string, init?: RequestInit) => Promise<Response>;

/** The dev hub's token service and the north's gateway, in process, reached through a fetch that records each call. */
beforeAll(async () => {
  const creds = await ensureDevCredentials(topology, dir);
  const hub = createFhirApp({ logger: silentLogger });
  hub.route(
    '/',
    tokenRoutes({
      registry: loadClientRegistry(creds.clientRegistryFile),
      store: new SqliteStore({ path: ':memory:' }),
      signingKey: creds.hubKey,
      issuer: HUB,
    }),
  );
  const { regions } = await learningQuarter();
  const gateway = createApp({
    ...regions.north,
    disclosures: backgroundCreates(regions.north.store, { logger: silentLogger, what: 'disclosures', intervalMs: 0 }),
    hubUrl: HUB,
    verifier: createAccessTokenVerifier({ keys: [creds.hubKey.publicJwk], issuer: HUB }),
    pageTokens: pageTokens('test-page-secret'),
  });
  fetchStub = async (url, init) => {
    fetched.push(url);
    if (url.startsWith(HUB)) return hub.request(url, init);
    if (url.startsWith(NORTH)) return gateway.request(url, init);
    throw new TypeError(`fetch failed: ${url}`);
  };
}, 60_000);

async function run(argv: string[], options: { fetch?: boolean; env?: Record<string, string> } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  fetched.length = 0;
  const code = await runLearningReportCommand(argv, {
    env: { IMAGING_DATA_DIR: dir, ...options.env },
    cwd: dir,
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    ...(options.fetch === false ? {} : { fetch: fetchStub }),
  });
  return { code, out: out.join(''), err: err.join('') };
}

describe('pnpm learning-report', () => {
  it("prints the organisation's report, fetched with its own client's token from its region's gateway", async () => {
    const { code, out, err } = await run(['--org', 'N81001', '--quarter', '2026-Q3']);
    expect(err).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(out) as LearningReport;
    expect([report.organisation, report.acknowledgements.late, report.failSafe.count]).toEqual(['N81001', 1, 1]);
    expect(fetched).toEqual([
      `${HUB}/oauth2/token`,
      `${NORTH}/fhir/$learning-report?organization=N81001&quarter=2026-Q3&_format=json`,
    ]);
  });

  it('writes CSV or HTML to --out', async () => {
    const file = join(dir, 'q3.csv');
    const csv = await run(['--org', 'N81001', '--quarter', '2026-Q3', '--format', 'csv', '--out', 'q3.csv']);
    expect([csv.code, csv.out, csv.err]).toEqual([0, '', `Wrote ${file}\n`]);
    expect(readFileSync(file, 'utf8')).toMatch(/^section,measure,value,/);
    const html = await run([
      '--org',
      'N81001',
      '--quarter',
      '2026-Q3',
      '--format',
      'html',
      '--out',
      join(dir, 'q3.html'),
    ]);
    expect(html.code).toBe(0);
    expect(readFileSync(join(dir, 'q3.html'), 'utf8')).toContain('<span id="figure-acknowledgements-late">1</span>');
  });

  it('says what is wrong with the arguments and exits 2, asking nothing of the network', async () => {
    const cases: [string[], RegExp][] = [
      [[], /--org is required[\s\S]*--quarter is required/],
      [['--org', 'N81001'], /--quarter is required/],
      [['--org', 'n81001', '--quarter', '2026-Q3'], /--org 'n81001' is not an ODS code/],
      [['--org', 'N81001', '--quarter', '2026-Q9'], /--quarter '2026-Q9' is not a quarter/],
      [['--org', 'N81001', '--quarter', '2026-Q3', '--format', 'pdf'], /--format 'pdf' is not json, csv or html/],
      [['--org', 'N81001', '--quarter', '2026-Q3', '--colour'], /Unknown option '--colour'/],
      [['--org', 'X99999', '--quarter', '2026-Q3'], /The topology has no organisation X99999/],
      [['--org', 'RS1', '--quarter', '2026-Q3'], /RS1 has no client with the scope report\/learning/],
      [['--org', 'N81001', '--quarter', '2026-Q3', '--client', 'clinician-rs1'], /not registered for the scope/],
    ];
    for (const [argv, message] of cases) {
      const { code, out, err } = await run(argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(out).toBe('');
      expect(err, argv.join(' ')).toMatch(message);
      expect(err).toContain('Usage: learning-report');
      expect(fetched).toEqual([]);
    }
  });

  it("exits 1 with the gateway's reasons when it refuses, and when nothing answers", async () => {
    // gp-n81001 acts for N81001: the gateway refuses it N81002's report.
    const refused = await run(['--org', 'N81002', '--quarter', '2026-Q3', '--client', 'gp-n81001']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^The gateway answered 403: .*may read only that organisation's learning report/);
    // Port 9 (discard): nothing listens there.
    const down = await run(['--org', 'N81001', '--quarter', '2026-Q3'], {
      fetch: false,
      env: { IMAGING_HUB_URL: 'http://127.0.0.1:9' },
    });
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/^No report: .*are the hub at http:\/\/127\.0\.0\.1:9 and the gateway/);
  });
});
