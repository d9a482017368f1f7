import { requireCustomScope } from '@imaging/auth';
import { CANONICAL_BASE, forbidden, invalid, issue, notFound, OutcomeError, presentationProblem } from '@imaging/fhir';
import type { Caller } from '@imaging/fhir';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { Hono } from 'hono';
import { learningReport } from '../domain/learning-report.ts';
import type { Quarter } from '../domain/quarter.ts';
import { parseQuarter } from '../domain/quarter.ts';
import type { AppDeps, AppEnv } from '../deps.ts';
import { callerFrom } from '../deps.ts';
import { learningReportCsv } from '../views/learning-report-csv.ts';
import { LEARNING_REPORT_CSP, learningReportHtml } from '../views/learning-report-html.ts';

/**
 * `GET /fhir/$learning-report?organization=<ODS>&quarter=2026-Q3[&_format=json|csv|html]`: an organisation's
 * learning report for a quarter (domain/learning-report.ts; docs/api.md, Learning report).
 *
 * Who may ask: a token with the scope `report/learning`, of a client of this region (403 otherwise), and
 * - a client acting for an organisation: for that organisation only (403 for any other);
 * - a client of this region acting for none (the network's fail-safe office or an auditor): for any
 *   organisation this region serves.
 * An organisation this region does not serve is 404. The report holds no patient identifiers; its items
 * are only what the organisation's access labels let it see.
 */
export const LEARNING_REPORT_SCOPE = 'report/learning';

export const LEARNING_REPORT_OPERATION = {
  name: 'learning-report',
  definition: `${CANONICAL_BASE}/OperationDefinition/learning-report`,
  methods: ['GET'],
} as const;

export const LEARNING_REPORT_FORMATS = ['json', 'csv', 'html'] as const;
export type LearningReportFormat = (typeof LEARNING_REPORT_FORMATS)[number];

const ODS = /^[A-Z0-9]{3,10}$/;
const PARAMETERS = new Set(['organization', 'quarter', '_format', '_pretty']);
/**
 * `_format` may also be given as a media type, with parameters (`text/csv; charset=utf-8`), as FHIR's own
 * `_format` may; every value FHIR's `_format` takes for JSON (`application/fhir+json`, …) means JSON here.
 */
const FORMAT_OF: Readonly<Record<string, LearningReportFormat>> = {
  csv: 'csv',
  'text/csv': 'csv',
  html: 'html',
  'text/html': 'html',
};

export interface LearningReportRequest {
  organisation: string;
  quarter: Quarter;
  format: LearningReportFormat;
}

/**
 * The request's parameters, checked: one 400 issue per problem (missing, repeated, unknown, malformed), or
 * a quarter that has not begun. Without `_format`, the Accept header chooses (HTML for a browser, CSV for
 * `text/csv`), else JSON.
 */
export function learningReportRequest(
  params: URLSearchParams,
  accept: string | undefined,
  now: Date,
): LearningReportRequest {
  const issues: OperationOutcomeIssue[] = [];
  const problem = (expression: string, text: string) => issues.push(issue({ code: 'invalid', expression, text }));
  for (const name of new Set(params.keys())) {
    if (!PARAMETERS.has(name))
      problem(name, `Unknown parameter '${name}': $learning-report takes organization, quarter, _format and _pretty`);
    else if (params.getAll(name).length > 1) problem(name, `'${name}' is given more than once`);
  }
  const organisation = params.get('organization') ?? '';
  if (!organisation) problem('organization', 'organization is required: the ODS code of the organisation');
  else if (!ODS.test(organisation))
    problem('organization', `'${organisation}' is not an ODS code (3-10 upper-case letters or digits)`);
  const quarterId = params.get('quarter') ?? '';
  const quarter = parseQuarter(quarterId);
  if (!quarterId) problem('quarter', 'quarter is required, e.g. 2026-Q3 (July to September 2026)');
  else if (!quarter) problem('quarter', `'${quarterId}' is not a quarter: YYYY-Qn, n from 1 to 4, e.g. 2026-Q3`);
  else if (quarter.start.getTime() > now.getTime()) problem('quarter', `${quarterId} has not begun`);
  const given = params.get('_format');
  const format = given === null ? formatFromAccept(accept) : formatFromParameter(given);
  if (!format) problem('_format', `'${given}' is not a format of the report: json, csv or html`);
  const pretty = params.get('_pretty');
  if (pretty !== null && pretty !== 'true' && pretty !== 'false') problem('_pretty', '_pretty must be true or false');
  if (issues.length) throw new OutcomeError(invalid(issues));
  return { organisation, quarter: quarter as Quarter, format: format as LearningReportFormat };
}

function formatFromParameter(value: string): LearningReportFormat | undefined {
  if (presentationProblem('_format', undefined, value) === undefined) return 'json';
  return FORMAT_OF[(value.split(';', 1)[0] ?? '').trim().toLowerCase()];
}

function formatFromAccept(accept: string | undefined): LearningReportFormat {
  const types = (accept ?? '').split(',').map((t) => t.split(';')[0]?.trim().toLowerCase());
  if (types.includes('text/html')) return 'html';
  if (types.includes('text/csv')) return 'csv';
  return 'json';
}

/** A client of an organisation sees its own report; a region-wide client of this region, any. */
export function assertMayReadLearningReport(caller: Caller, organisation: string): void {
  if (caller.organisation && caller.organisation !== organisation)
    throw new OutcomeError(
      forbidden(
        `${caller.clientId} acts for ${caller.organisation}: it may read only that organisation's learning report`,
      ),
    );
}

export function learningReportRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/', requireCustomScope(LEARNING_REPORT_SCOPE), async (c) => {
    const caller = callerFrom(c, deps);
    const request = learningReportRequest(new URL(c.req.url).searchParams, c.req.header('Accept'), deps.clock.now());
    assertMayReadLearningReport(caller, request.organisation);
    const served = await deps.hub.findService(request.organisation);
    if (served?.regionId !== deps.region.regionId)
      throw new OutcomeError(notFound(`Organisation ${request.organisation} in region ${deps.region.regionId}`));
    const report = await learningReport(deps, request.organisation, request.quarter);
    const headers = { 'Cache-Control': 'no-store' };
    const name = `learning-report-${request.organisation}-${request.quarter.id}`;
    if (request.format === 'csv')
      return c.body(learningReportCsv(report), 200, {
        ...headers,
        'Content-Type': 'text/csv; charset=utf-8; header=present',
        'Content-Disposition': `attachment; filename="${name}.csv"`,
      });
    if (request.format === 'html')
      return c.body(learningReportHtml(report), 200, {
        ...headers,
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': LEARNING_REPORT_CSP,
      });
    return c.body(JSON.stringify(report, null, 2), 200, { ...headers, 'Content-Type': 'application/json' });
  });
  return app;
}
