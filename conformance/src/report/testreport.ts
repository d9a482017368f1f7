import type { TestReport, TestReportParticipant, TestReportTest, TestReportTestAction } from '@medplum/fhirtypes';
import { CANONICAL_BASE } from '@imaging/fhir';
import type { Outcome, ReportModel } from './model.ts';
import { runPassed } from './model.ts';

/** How many of a test's exchanges become operations in the TestReport (the HTML report has them all). */
export const MAX_OPERATIONS_PER_TEST = 20;
/** markdown is unbounded in FHIR; a reader of the TestReport needs the gist, the HTML report has the rest. */
const MAX_MESSAGE_CHARS = 4_000;

const ASSERT_RESULT: Record<Outcome, 'pass' | 'warning' | 'fail' | 'skip'> = {
  passed: 'pass',
  // A recorded deviation passes the run, but a reader should see it was not clean R4.
  deviation: 'warning',
  failed: 'fail',
  skipped: 'skip',
};

/**
 * The run as a FHIR R4 TestReport: one `test` per test, each with an operation per HTTP exchange
 * (up to MAX_OPERATIONS_PER_TEST) and one assert carrying the outcome and its reason.
 */
export function toTestReport(model: ReportModel): TestReport {
  const participants: TestReportParticipant[] = [
    { type: 'test-engine', uri: `${CANONICAL_BASE}/conformance`, display: model.title },
  ];
  if (model.target) {
    const { base, software, database } = model.target;
    participants.push({
      type: 'server',
      uri: base,
      display: database ? `${software} on ${database.description}` : software,
    });
  }
  if (model.actorTarget)
    participants.push({ type: 'server', uri: actorUri(model.actorTarget), display: model.actorTarget });

  const tests: TestReportTest[] = model.groups.flatMap((group) =>
    group.tests.map((test): TestReportTest => {
      const operations: TestReportTestAction[] = test.exchanges.slice(0, MAX_OPERATIONS_PER_TEST).map((x) => ({
        operation: {
          result: x.response ? 'pass' : 'error',
          message: cut(
            `${x.label}: ${x.request.method} ${x.request.url} → ${x.response ? x.response.status : `no answer (${x.error ?? 'unknown'})`}`,
          ),
        },
      }));
      const message = [test.reason || (test.outcome === 'passed' ? 'passed' : test.outcome), ...test.notes].join(
        '\n\n',
      );
      return {
        name: [group.title, ...test.path, test.name].join(' › '),
        description: `${test.outcome} in ${Math.round(test.durationMs)} ms`,
        action: [...operations, { assert: { result: ASSERT_RESULT[test.outcome], message: cut(message) } }],
      };
    }),
  );

  const passed = runPassed(model);
  return {
    resourceType: 'TestReport',
    identifier: { system: `${CANONICAL_BASE}/Id/conformance-run`, value: model.startedAt },
    name: model.title,
    status: 'completed',
    testScript: {
      identifier: { system: `${CANONICAL_BASE}/Id/test-script`, value: 'imaging-connect-conformance' },
      display: 'imaging-connect conformance suite (conformance/)',
    },
    result: model.totals.total === 0 ? 'pending' : passed ? 'pass' : 'fail',
    score:
      model.totals.total === 0 ? 0 : round((100 * (model.totals.passed + model.totals.deviation)) / model.totals.total),
    tester: 'imaging-connect conformance suite',
    issued: new Date(Date.parse(model.startedAt) + model.durationMs).toISOString(),
    participant: participants,
    ...(tests.length ? { test: tests } : {}),
  };
}

function cut(text: string): string {
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)} … (cut; see report.html)` : text;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** A participant's uri: the URL itself when the line starts with one. */
function actorUri(line: string): string {
  return /^(https?:\/\/\S+)/.exec(line)?.[1] ?? `urn:imaging-connect:${line.replace(/[^A-Za-z0-9.-]+/g, '-')}`;
}
