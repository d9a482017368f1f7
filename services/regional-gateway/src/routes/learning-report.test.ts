import type { CapabilityStatement, OperationOutcome } from '@medplum/fhirtypes';
import type { AccessTokenContent } from '@imaging/auth';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LearningReport } from '../domain/learning-report.ts';
import { GP_TOKEN, RIS_TOKEN, testGateway } from '../testing/app.ts';
import { learningQuarter } from '../testing/learning.ts';
import { CSV_COLUMNS } from '../views/learning-report-csv.ts';

const SCOPE = 'report/learning';
const withScope = (token: AccessTokenContent): AccessTokenContent => ({
  ...token,
  scope: [...(token.scope as string[]), SCOPE],
});
/** The north's fail-safe office: a client of the region acting for no one organisation. */
const FAIL_SAFE_OFFICE: AccessTokenContent = {
  sub: 'failsafe-north',
  client_kind: 'observer',
  region: 'north',
  scope: [SCOPE],
};

let gateway: Awaited<ReturnType<typeof testGateway>>;
let call: (query: string, options?: { token?: AccessTokenContent | null; accept?: string }) => Promise<Response>;

beforeAll(async () => {
  const { regions } = await learningQuarter();
  gateway = await testGateway(regions.north);
  call = async (query, options = {}) => {
    const token = options.token === undefined ? withScope(GP_TOKEN) : options.token;
    const headers: Record<string, string> = {};
    if (token) headers.Authorization = `Bearer ${await gateway.token(token)}`;
    if (options.accept) headers.Accept = options.accept;
    return gateway.app.request(`/fhir/$learning-report${query}`, { headers });
  };
}, 60_000);

const issuesOf = async (res: Response) =>
  ((await res.json()) as OperationOutcome).issue?.map((i) => [i.expression?.[0], i.code]);

describe('GET /fhir/$learning-report', () => {
  it('gives a practice its own report as JSON, not cached', async () => {
    const res = await call('?organization=N81001&quarter=2026-Q3');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const report = (await res.json()) as LearningReport;
    expect(report.organisation).toBe('N81001');
    expect([
      report.delayedReports.count,
      report.acknowledgements.late,
      report.acknowledgements.missed,
      report.failSafe.count,
      report.dids.cases,
    ]).toEqual([1, 1, 1, 1, 4]);
  });

  it('takes every _format FHIR gives for JSON, a media type with parameters, and _pretty', async () => {
    for (const [query, type] of [
      ['&_format=application/fhir%2Bjson', 'application/json'],
      ['&_format=application/fhir+json', 'application/json'], // a + left unescaped reads as a space
      ['&_format=application/fhir%2Bjson;%20fhirVersion=4.0', 'application/json'],
      ['&_format=json&_pretty=true', 'application/json'],
      ['&_format=text/csv;%20charset=utf-8', 'text/csv; charset=utf-8; header=present'],
      ['&_format=TEXT/HTML', 'text/html; charset=utf-8'],
    ] as const) {
      const res = await call(`?organization=N81001&quarter=2026-Q3${query}`);
      expect(res.status, query).toBe(200);
      expect(res.headers.get('Content-Type'), query).toBe(type);
    }
  });

  it('gives CSV for _format=csv or Accept: text/csv, one header row and a row per figure and item', async () => {
    for (const [query, accept] of [
      ['?organization=N81001&quarter=2026-Q3&_format=csv', undefined],
      ['?organization=N81001&quarter=2026-Q3', 'text/csv'],
    ] as const) {
      const res = await call(query, accept ? { accept } : {});
      expect(res.status).toBe(200);
      expect(res.headers.get('Content-Type')).toBe('text/csv; charset=utf-8; header=present');
      expect(res.headers.get('Content-Disposition')).toBe('attachment; filename="learning-report-N81001-2026-Q3.csv"');
      const lines = (await res.text()).split('\r\n');
      expect(lines[0]).toBe(CSV_COLUMNS.join(','));
      expect(lines).toContain(`summary,acknowledgements_late,1${','.repeat(CSV_COLUMNS.length - 3)}`);
      expect(lines.filter((l) => l.startsWith('delayed-report,'))).toHaveLength(1);
      expect(lines.filter((l) => l.startsWith('dids,'))).toHaveLength(4);
    }
  });

  it('gives the page for _format=html or a browser’s Accept, allowed no script and nothing from elsewhere', async () => {
    for (const [query, accept] of [
      ['?organization=N81001&quarter=2026-Q3&_format=html', undefined],
      ['?organization=N81001&quarter=2026-Q3', 'text/html,application/xhtml+xml,*/*;q=0.8'],
    ] as const) {
      const res = await call(query, accept ? { accept } : {});
      expect(res.status).toBe(200);
      expect(res.headers.get('Content-Type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('Content-Security-Policy')).toMatch(/^default-src 'none'; style-src 'unsafe-inline'/);
      const page = await res.text();
      expect(page).toContain('Learning report: N81001, July to September 2026 (2026-Q3)');
      expect(page).toContain('<span id="figure-acknowledgements-late">1</span>');
    }
  });

  it("lets a region-wide client of this region read any organisation's report it serves", async () => {
    const res = await call('?organization=N81002&quarter=2026-Q3', { token: FAIL_SAFE_OFFICE });
    expect(res.status).toBe(200);
    expect(((await res.json()) as LearningReport).acknowledgements.due).toBe(0);
    expect((await call('?organization=N81001&quarter=2026-Q3', { token: FAIL_SAFE_OFFICE })).status).toBe(200);
  });

  it('refuses a request without a token (401), without the scope, for another organisation, or from another region (403)', async () => {
    const query = '?organization=N81001&quarter=2026-Q3';
    expect((await call(query, { token: null })).status).toBe(401);
    const noScope = await call(query, { token: GP_TOKEN });
    expect(noScope.status).toBe(403);
    expect(noScope.headers.get('WWW-Authenticate')).toContain('scope="report/learning"');
    const otherPractice = await call('?organization=N81002&quarter=2026-Q3');
    expect(otherPractice.status).toBe(403);
    expect(await issuesOf(otherPractice)).toEqual([[undefined, 'forbidden']]);
    expect((await call(query, { token: withScope(RIS_TOKEN) })).status).toBe(403);
    expect((await call(query, { token: { ...FAIL_SAFE_OFFICE, region: 'midlands' } })).status).toBe(403);
  });

  it('answers an organisation this region does not serve, or the directory does not know, with 404', async () => {
    for (const ods of ['RM1', 'X99999']) {
      const res = await call(`?organization=${ods}&quarter=2026-Q3`, { token: FAIL_SAFE_OFFICE });
      expect(res.status, ods).toBe(404);
      expect(await issuesOf(res)).toEqual([[undefined, 'not-found']]);
    }
  });

  it('answers bad parameters with 400, one issue per problem at the parameter', async () => {
    const cases: [string, [string, string][]][] = [
      [
        '',
        [
          ['organization', 'invalid'],
          ['quarter', 'invalid'],
        ],
      ],
      ['?organization=n81001&quarter=2026-Q3', [['organization', 'invalid']]],
      ['?organization=N81001&quarter=2026-Q5', [['quarter', 'invalid']]],
      ['?organization=N81001&quarter=Q3-2026', [['quarter', 'invalid']]],
      ['?organization=N81001&quarter=2099-Q1', [['quarter', 'invalid']]],
      ['?organization=N81001&quarter=2026-Q3&_format=xml', [['_format', 'invalid']]],
      ['?organization=N81001&quarter=2026-Q3&_format=application/fhir%2Bxml', [['_format', 'invalid']]],
      ['?organization=N81001&quarter=2026-Q3&_pretty=yes', [['_pretty', 'invalid']]],
      ['?organization=N81001&quarter=2026-Q3&patient=x', [['patient', 'invalid']]],
      ['?organization=N81001&organization=N81002&quarter=2026-Q3', [['organization', 'invalid']]],
    ];
    for (const [query, issues] of cases) {
      const res = await call(query);
      expect(res.status, query).toBe(400);
      expect(res.headers.get('Content-Type'), query).toContain('application/fhir+json');
      expect(await issuesOf(res), query).toEqual(issues);
    }
  });

  it('is listed in the CapabilityStatement, and its scope in the SMART configuration', async () => {
    const statement = (await (await gateway.app.request('/fhir/metadata')).json()) as CapabilityStatement;
    expect(statement.rest?.[0]?.operation?.map((o) => o.name)).toContain('learning-report');
    const smart = (await (await gateway.app.request('/.well-known/smart-configuration')).json()) as {
      scopes_supported: string[];
    };
    expect(smart.scopes_supported).toContain(SCOPE);
  });
});
