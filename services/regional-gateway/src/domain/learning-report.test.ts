import { describe, expect, it } from 'vitest';
import { DICOM_UID_SYSTEM, SYSTEMS } from '@imaging/fhir';
import { exampleImagingStudy } from '@imaging/fhir/examples';
import { RN1_RIS } from '../testing/alerts.ts';
import { alertOf, caseTasks, learningQuarter } from '../testing/learning.ts';
import { recordImagingStudy } from './results.ts';
import type { ActorReference, Alert } from './alert-task.ts';
import { buildLearningReport, learningReport } from './learning-report.ts';
import type { LearningData, ReportContext } from './learning-report.ts';
import { DEFAULT_ALERTS, DEFAULT_TURNAROUND } from './ports.ts';
import { parseQuarter, quarterOf } from './quarter.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-07-01T08:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const Q3 = parseQuarter('2026-Q3');
if (!Q3) throw new Error('2026-Q3 is a quarter');

describe('calendar quarters in England', () => {
  it('run from midnight in England on the first day: summer-time quarters start at 23:00 UTC the day before', () => {
    expect(Q3).toEqual({
      id: '2026-Q3',
      start: new Date('2026-06-30T23:00:00.000Z'),
      end: new Date('2026-09-30T23:00:00.000Z'),
    });
    expect(parseQuarter('2026-Q1')?.start.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(parseQuarter('2026-Q1')?.end.toISOString()).toBe('2026-03-31T23:00:00.000Z');
    expect(parseQuarter('2026-Q4')?.start.toISOString()).toBe('2026-09-30T23:00:00.000Z');
    expect(parseQuarter('2026-Q4')?.end.toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });

  it('refuses what is not YYYY-Qn', () => {
    for (const bad of ['2026-Q5', '2026-Q0', '2026Q3', '26-Q3', '2026-q3', '1999-Q1', '2026-Q3 ', ''])
      expect(parseQuarter(bad), bad).toBeUndefined();
  });

  it('puts an instant in the quarter of its date in England', () => {
    expect(quarterOf(new Date('2026-09-30T22:59:59.999Z')).id).toBe('2026-Q3');
    expect(quarterOf(new Date('2026-09-30T23:00:00.000Z')).id).toBe('2026-Q4');
    expect(quarterOf(new Date('2026-12-31T23:59:59.999Z')).id).toBe('2026-Q4');
  });
});

describe('the learning report of a quarter', () => {
  it('counts each section exactly, from a quarter of events run on a manual clock', async () => {
    const { regions, orderOf } = await learningQuarter();
    const report = await learningReport(regions.north, 'N81001', Q3);
    const ref = async (n: number, code: string) => `Task/${(await caseTasks(regions, n, code))[0]?.id}`;
    const order = (n: number) => `ServiceRequest/${orderOf(n).id}`;

    expect(report).toMatchObject({
      reportType: 'imaging-connect/learning-report',
      version: 1,
      organisation: 'N81001',
      region: 'north',
      quarter: { id: '2026-Q3', start: '2026-06-30T23:00:00.000Z', end: '2026-09-30T23:00:00.000Z' },
      generatedAt: at(43 * DAY),
      unreadable: [],
    });

    // Case 3: its urgent report was due 2 days after the exam (t0+49h) and issued at t0+96h.
    expect(report.delayedReports).toEqual({
      count: 1,
      open: 0,
      items: [
        {
          correlationId: 'case-3',
          breach: await ref(3, 'resolve-breach'),
          order: order(3),
          study: expect.stringMatching(/^ImagingStudy\//),
          kind: 'report-overdue',
          pathway: 'urgent',
          dueAt: at(49 * HOUR),
          resolvedAt: at(96 * HOUR),
          resolution: 'done',
          lateByMs: 47 * HOUR,
          step: 'provider',
        },
      ],
    });

    // Case 1 acknowledged 4 h late, case 2 never, case 4 on time.
    const alert1 = await alertOf(regions, 1);
    const alert2 = await alertOf(regions, 2);
    expect(report.acknowledgements).toEqual({
      due: 3,
      onTime: 1,
      late: 1,
      missed: 1,
      pending: 0,
      onTimeRate: 0.333,
      items: [
        {
          correlationId: 'case-2',
          alert: `Task/${alert2?.id}`,
          kind: 'acknowledge-result',
          report: expect.stringMatching(/^DiagnosticReport\//),
          order: order(2),
          category: 'CRITICAL',
          raisedAt: at(2 * HOUR),
          dueAt: at(3 * HOUR),
          outcome: 'missed',
          lateByMs: 43 * DAY - 3 * HOUR,
          step: 'fail-safe-officer',
        },
        {
          correlationId: 'case-1',
          alert: `Task/${alert1?.id}`,
          kind: 'acknowledge-result',
          report: expect.stringMatching(/^DiagnosticReport\//),
          order: order(1),
          category: 'URGENT',
          raisedAt: at(2 * HOUR),
          dueAt: at(26 * HOUR),
          acknowledgedAt: at(30 * HOUR),
          outcome: 'late',
          lateByMs: 4 * HOUR,
          step: 'delegate',
        },
      ],
    });

    // Case 2 climbed requester > delegate > responsible > fail-safe officer (t0+4h), then was reminded 4 times.
    expect(report.failSafe).toEqual({
      count: 1,
      alerts: 1,
      breaches: 0,
      items: [
        {
          correlationId: 'case-2',
          what: 'alert',
          task: `Task/${alert2?.id}`,
          about: alert2?.focus?.reference,
          reason: 'CRITICAL',
          raisedAt: at(2 * HOUR),
          reachedAt: at(4 * HOUR),
          audit: expect.stringMatching(/^AuditEvent\//),
          reminders: 4,
        },
      ],
    });

    expect(report.turnaround.targets).toEqual([
      {
        target: 'dm01',
        label: expect.any(String),
        targetMs: 42 * DAY,
        due: 5,
        met: 4,
        missed: 1,
        pending: 0,
        metRate: 0.8,
      },
      {
        target: 'report-overdue:urgent',
        label: 'Report issued by its due time (Urgent)',
        targetMs: 2 * DAY,
        due: 2,
        met: 1,
        missed: 1,
        pending: 0,
        metRate: 0.5,
      },
      {
        target: 'reporting-tat',
        label: expect.any(String),
        targetMs: 28 * DAY,
        due: 4,
        met: 4,
        missed: 0,
        pending: 0,
        metRate: 1,
      },
    ]);
    expect(report.turnaround.breaches).toEqual([
      {
        correlationId: 'case-5',
        breach: await ref(5, 'resolve-breach'),
        order: order(5),
        kind: 'dm01',
        pathway: 'routine',
        dueAt: at(42 * DAY),
        lateByMs: DAY,
        step: 'provider',
      },
    ]);

    // Cases 1-4 were tested on 1 July: GP direct access (a practice's order without an encounter).
    expect(report.dids.cases).toBe(4);
    expect(report.dids.items.map((c) => [c.correlationId, c.testDate, c.reportIssueDate, c.testToReportMs])).toEqual([
      ['case-1', '2026-07-01', '2026-07-01', HOUR],
      ['case-2', '2026-07-01', '2026-07-01', HOUR],
      ['case-3', '2026-07-01', '2026-07-05', 95 * HOUR],
      ['case-4', '2026-07-01', '2026-07-01', 4 * HOUR],
    ]);
    expect(report.dids.items[0]).toMatchObject({
      order: order(1),
      placerOrder: 'N81001-000001',
      accession: 'RN1-ACC-1',
      sourceSetting: 'gp-direct-access',
      referringOrganisation: 'N81001',
      performer: 'RN1',
      requestDate: '2026-07-01',
      requestReceivedDate: '2026-07-01',
      requestToTestMs: HOUR,
      requestToReportMs: 2 * HOUR,
    });
    expect(report.dids.bySourceSetting['gp-direct-access']).toEqual({
      cases: 4,
      requestToTest: { count: 4, medianMs: HOUR, p90Ms: HOUR, maxMs: HOUR },
      testToReport: { count: 4, medianMs: HOUR, p90Ms: 95 * HOUR, maxMs: 95 * HOUR },
      requestToReport: { count: 4, medianMs: 2 * HOUR, p90Ms: 96 * HOUR, maxMs: 96 * HOUR },
    });
    expect(report.dids.bySourceSetting.emergency.cases).toBe(0);

    // Nothing identifies the patient. An NHS number stands alone: the digits inside a random id
    // (a UUID such as 5bdf3fc3-...-99368624478d) are not one.
    const text = JSON.stringify(report);
    expect(text).not.toMatch(/Patient\/|nhs-number|(?<![\w-])9\d{9}(?![\w-])|Asha|Patel/);

    // The provider sees the same cases; another practice of the region, none of them.
    const provider = await learningReport(regions.north, 'RN1', Q3);
    expect([provider.delayedReports.count, provider.acknowledgements.due, provider.failSafe.count]).toEqual([1, 3, 1]);
    const other = await learningReport(regions.north, 'N81002', Q3);
    expect([
      other.delayedReports.count,
      other.acknowledgements.due,
      other.failSafe.count,
      other.turnaround.targets.length,
      other.dids.cases,
    ]).toEqual([0, 0, 0, 0, 0]);

    // The quarter before holds none of it.
    const q2 = await learningReport(regions.north, 'N81001', parseQuarter('2026-Q2') as never);
    expect([q2.acknowledgements.due, q2.failSafe.count, q2.dids.cases, q2.turnaround.targets.length]).toEqual([
      0, 0, 0, 0,
    ]);
  });
});

/** An acknowledgement Task, decoded, due at `dueAt`. */
function alertDueAt(id: string, dueAt: string, acknowledgedAt?: string): Alert {
  const by: ActorReference = { display: 'Dr Asha Patel' };
  return {
    id,
    versionId: '1',
    kind: 'acknowledge-result',
    identifier: `REP-${id}-acknowledge`,
    correlationId: `case-${id}`,
    category: 'URGENT',
    report: { reference: `DiagnosticReport/${id}` },
    order: { reference: `ServiceRequest/${id}` },
    owner: { reference: 'Organization/N81001' },
    ownerOrganisation: 'N81001',
    performer: 'RN1',
    raisedAt: new Date(Date.parse(dueAt) - DAY),
    acknowledgementDueAt: new Date(dueAt),
    state: acknowledgedAt ? 'closed' : 'raised',
    step: 'requester',
    recipients: [],
    lastModified: new Date(dueAt),
    ...(acknowledgedAt ? { acknowledgement: { at: new Date(acknowledgedAt), by } } : {}),
  };
}

describe('the DIDS cases of a quarter', () => {
  it("counts a case by its record's test date: an exam claimed before the order counts when the study was stored", async () => {
    const { regions, orderOf, endpoint } = await learningQuarter();
    const order = orderOf(5);
    const stored = regions.clock.now().toISOString().slice(0, 10); // t0+43d, 13 August 2026: Q3
    // Case 5 was ordered on 1 July; its study claims an exam on 20 June, in Q2, before it was ordered.
    await recordImagingStudy(
      regions.north,
      RN1_RIS,
      exampleImagingStudy({
        identifier: [
          { system: DICOM_UID_SYSTEM, value: 'urn:oid:1.2.826.0.1.3680043.10.543.5' },
          { system: SYSTEMS.accession, value: 'RN1-ACC-5' },
        ],
        basedOn: [{ reference: `ServiceRequest/${order.id}` }],
        subject: order.subject as never,
        endpoint: [{ reference: endpoint }],
        started: '2026-06-20T10:00:00.000Z',
        procedureCode: [order.code ?? {}],
      }),
      'case-5',
    );
    const q3 = await learningReport(regions.north, 'N81001', Q3);
    expect(q3.dids.cases).toBe(5);
    expect(q3.dids.items.find((c) => c.correlationId === 'case-5')?.testDate).toBe(stored);
    const q2 = await learningReport(regions.north, 'N81001', parseQuarter('2026-Q2') as never);
    expect(q2.dids.cases).toBe(0);
  });
});

describe('what the report reads', () => {
  it('reads the Tasks of its quarter and windows, not every Task since: an old quarter reads none of a later one', async () => {
    const { regions } = await learningQuarter();
    const read: string[] = [];
    const store = regions.north.store;
    const counting = new Proxy(store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (name !== 'search' && name !== 'nextPage') return typeof value === 'function' ? value.bind(target) : value;
        return async (...args: unknown[]) => {
          const page = await (
            value as (...a: unknown[]) => Promise<{ resources: { resourceType: string; id: string }[] }>
          ).apply(target, args);
          read.push(...page.resources.filter((r) => r.resourceType === 'Task').map((r) => r.id));
          return page;
        };
      },
    });
    const Q1 = parseQuarter('2026-Q1');
    if (!Q1) throw new Error('2026-Q1 is a quarter');
    // Every Task of the world was made in 2026-Q3, months after 2026-Q1 and its longest window (six weeks).
    await learningReport({ ...regions.north, store: counting }, 'N81001', Q1);
    expect(read).toEqual([]);
    await learningReport({ ...regions.north, store: counting }, 'N81001', Q3);
    expect(read.length).toBeGreaterThan(0);
  });
});

describe('the quarter boundary', () => {
  const empty: LearningData = { alerts: [], watches: [], breaches: [], failSafeSteps: [], cases: [], unreadable: [] };
  const context = (quarter: string, now: string): ReportContext => ({
    organisation: 'N81001',
    region: 'north',
    quarter: parseQuarter(quarter) as never,
    now: new Date(now),
    alerts: DEFAULT_ALERTS,
    turnaround: DEFAULT_TURNAROUND,
  });
  const alerts = [
    // 23:59:59.999 on 30 September in England (summer time): the last instant of Q3.
    alertDueAt('last', '2026-09-30T22:59:59.999Z', '2026-10-01T09:00:00.000Z'),
    // Midnight on 1 October in England: the first instant of Q4.
    alertDueAt('first', '2026-09-30T23:00:00.000Z'),
    // Due at midnight on 1 July in England: the first instant of Q3.
    alertDueAt('start', '2026-06-30T23:00:00.000Z', '2026-06-30T22:00:00.000Z'),
  ];

  it('counts an item in the quarter its due time falls in, by the date in England', () => {
    const q3 = buildLearningReport(context('2026-Q3', '2026-10-02T00:00:00Z'), { ...empty, alerts });
    expect(q3.acknowledgements).toMatchObject({ due: 2, onTime: 1, late: 1, missed: 0, pending: 0 });
    expect(q3.acknowledgements.items.map((i) => i.alert)).toEqual(['Task/last']);
    const q4 = buildLearningReport(context('2026-Q4', '2026-10-02T00:00:00Z'), { ...empty, alerts });
    expect(q4.acknowledgements).toMatchObject({ due: 1, onTime: 0, late: 0, missed: 1, pending: 0 });
    expect(q4.acknowledgements.items.map((i) => i.alert)).toEqual(['Task/first']);
  });

  it('leaves an alert not yet due as pending, with no rate until one is decided', () => {
    const q4 = buildLearningReport(context('2026-Q4', '2026-09-30T23:30:00Z'), {
      ...empty,
      alerts: [alertDueAt('soon', '2026-10-01T09:00:00.000Z')],
    });
    expect(q4.acknowledgements).toEqual({ due: 1, onTime: 0, late: 0, missed: 0, pending: 1, items: [] });
  });
});
