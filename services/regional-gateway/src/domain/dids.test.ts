import type { DiagnosticReport, Encounter, ImagingStudy, ServiceRequest, Task } from '@medplum/fhirtypes';
import { EXTENSIONS, SYSTEMS } from '@imaging/fhir';
import { exampleDiagnosticReport, exampleImagingStudy, exampleServiceRequest } from '@imaging/fhir/examples';
import { describe, expect, it } from 'vitest';
import { reportedCase } from '../testing/pathway.ts';
import type { DidsRecord, SourceSetting } from './dids.ts';
import {
  didsDate,
  didsRecordOf,
  isIssuedReport,
  isTestDone,
  reportIssueDate,
  reportIssueDateOf,
  requestReceivedDate,
  SOURCE_SETTINGS,
  sourceSettingOf,
  summariseWaits,
  testDate,
  testDateOf,
  turnaroundBySourceSetting,
} from './dids.ts';
import { orderOfResult } from './result-order.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (iso: string) => new Date(iso);

const withEncounter = (encounter: Partial<Encounter> | undefined, reference = '#enc'): ServiceRequest =>
  exampleServiceRequest(
    encounter
      ? {
          contained: [
            { resourceType: 'Encounter', id: 'enc', status: 'in-progress', class: { code: 'AMB' }, ...encounter },
          ],
          encounter: { reference },
        }
      : {},
  );
const version = (n: number, status: Task['status'], lastModified: string | undefined, stored: string): Task => ({
  resourceType: 'Task',
  status,
  intent: 'order',
  ...(lastModified ? { lastModified } : {}),
  meta: { versionId: String(n), lastUpdated: stored },
});

describe('the patient source setting', () => {
  it.each<[string, SourceSetting]>([
    ['EMER', 'emergency'],
    ['IMP', 'inpatient'],
    ['ACUTE', 'inpatient'],
    ['NONAC', 'inpatient'],
    ['SS', 'day-case'],
    ['AMB', 'outpatient'],
    ['HH', 'other'],
    ['VR', 'other'],
  ])("is read from the encounter's class: %s is %s", (code, setting) => {
    expect(sourceSettingOf(withEncounter({ class: { code } }), 'trust')).toBe(setting);
  });

  it('is GP direct access for a GP practice ordering for an outpatient, or with no encounter', () => {
    expect(sourceSettingOf(withEncounter({ class: { code: 'AMB' } }), 'gp-practice')).toBe('gp-direct-access');
    expect(sourceSettingOf(withEncounter(undefined), 'gp-practice')).toBe('gp-direct-access');
    // A GP's order from A&E is still A&E.
    expect(sourceSettingOf(withEncounter({ class: { code: 'EMER' } }), 'gp-practice')).toBe('emergency');
  });

  it('is other without an encounter it can read, unless a GP practice ordered', () => {
    expect(sourceSettingOf(withEncounter(undefined))).toBe('other');
    expect(sourceSettingOf(withEncounter(undefined), 'trust')).toBe('other');
    // An encounter not carried with the order (a literal reference) cannot be read here.
    expect(sourceSettingOf(withEncounter({ class: { code: 'IMP' } }, 'Encounter/123'), 'trust')).toBe('other');
  });
});

describe('the request-received date', () => {
  it('is when the fulfilment Task first moved past requested, whatever order its versions come in', () => {
    const history = [
      version(3, 'accepted', '2026-03-03T10:00:00Z', '2026-03-03T10:00:01Z'),
      version(2, 'received', '2026-03-02T09:00:00Z', '2026-03-02T09:00:01Z'),
      version(1, 'requested', '2026-03-01T08:00:00Z', '2026-03-01T08:00:01Z'),
    ];
    expect(requestReceivedDate(history)).toEqual(at('2026-03-02T09:00:00Z'));
    expect(requestReceivedDate([...history].reverse())).toEqual(at('2026-03-02T09:00:00Z'));
  });

  it('is the acceptance when receipt was not reported, and the store time when lastModified is missing', () => {
    expect(
      requestReceivedDate([
        version(1, 'requested', undefined, '2026-03-01T08:00:01Z'),
        version(2, 'accepted', undefined, '2026-03-04T11:00:00Z'),
      ]),
    ).toEqual(at('2026-03-04T11:00:00Z'));
  });

  it('is when the Task was stored here while it waits, and unknown without it', () => {
    expect(requestReceivedDate([version(1, 'requested', '2026-03-01T08:00:00Z', '2026-03-01T08:00:05Z')])).toEqual(
      at('2026-03-01T08:00:05Z'),
    );
    expect(requestReceivedDate([])).toBeUndefined();
  });
});

describe('the test and report-issue dates', () => {
  it('take the study start, else when it was stored; the earliest of several studies', () => {
    expect(testDateOf(exampleImagingStudy({ started: '2026-03-05T10:00:00Z' }))).toEqual(at('2026-03-05T10:00:00Z'));
    const unstarted = exampleImagingStudy({ started: undefined, meta: { lastUpdated: '2026-03-06T10:00:00Z' } });
    expect(testDateOf(unstarted)).toEqual(at('2026-03-06T10:00:00Z'));
    expect(testDate([unstarted, exampleImagingStudy({ started: '2026-03-05T10:00:00Z' })])).toEqual(
      at('2026-03-05T10:00:00Z'),
    );
    expect(testDate([])).toBeUndefined();
  });

  it('take only an available study as the test done: registered, cancelled and the rest are no test', () => {
    const statuses = ['registered', 'available', 'cancelled', 'entered-in-error', 'unknown'] as const;
    expect(statuses.filter((status) => isTestDone({ status }))).toEqual(['available']);
    const cancelled = exampleImagingStudy({ status: 'cancelled', started: '2026-03-02T10:00:00Z' });
    const registered = exampleImagingStudy({ status: 'registered', started: '2026-03-03T10:00:00Z' });
    const available = exampleImagingStudy({ started: '2026-03-05T10:00:00Z' });
    expect(testDate([cancelled, registered, available])).toEqual(at('2026-03-05T10:00:00Z'));
    expect(testDate([cancelled, registered])).toBeUndefined();
  });

  it('never believe a start before the order was made: the test is then done when the study was stored', () => {
    const requested = at('2026-03-01T08:00:00Z');
    const backdated = exampleImagingStudy({
      started: '2026-02-20T10:00:00Z',
      meta: { lastUpdated: '2026-04-20T10:00:00Z' },
    });
    expect(testDateOf(backdated, requested)).toEqual(at('2026-04-20T10:00:00Z'));
    expect(testDateOf({ ...backdated, meta: undefined }, requested)).toBeUndefined(); // not stored yet
    expect(testDate([backdated], requested)).toEqual(at('2026-04-20T10:00:00Z'));
    expect(testDateOf(backdated)).toEqual(at('2026-02-20T10:00:00Z')); // no order to hold it to
    const order = exampleServiceRequest({ authoredOn: '2026-03-01T08:00:00Z' });
    expect(didsRecordOf({ order, studies: [backdated] }).testDate).toEqual(at('2026-04-20T10:00:00Z'));
  });

  it("take a result as one order's only when it is based on that order alone", () => {
    const on = (...basedOn: { reference?: string; type?: string }[]) =>
      orderOfResult({ basedOn: basedOn as ImagingStudy['basedOn'] });
    expect(on({ reference: 'ServiceRequest/a' })).toBe('ServiceRequest/a');
    expect(on({ reference: 'ServiceRequest/a/_history/2' })).toBe('ServiceRequest/a');
    expect(on({ reference: 'ServiceRequest/a' }, { reference: 'Task/t' })).toBe('ServiceRequest/a');
    expect(on({ reference: 'ServiceRequest/a' }, { reference: 'ServiceRequest/b' })).toBeUndefined();
    expect(on({ reference: 'ServiceRequest/a' }, { type: 'ServiceRequest' })).toBeUndefined();
    expect(on({ type: 'ServiceRequest' })).toBeUndefined();
    expect(on()).toBeUndefined();
  });

  it('take only issued reports (final, amended, corrected), at their issue time, the earliest of several', () => {
    const report = (status: DiagnosticReport['status'], issued?: string) =>
      exampleDiagnosticReport({ status, issued, meta: { lastUpdated: '2026-03-09T12:00:00Z' } });
    expect(
      ['final', 'amended', 'corrected'].every((s) => isIssuedReport({ status: s as DiagnosticReport['status'] })),
    ).toBe(true);
    expect(reportIssueDateOf(report('preliminary', '2026-03-07T10:00:00Z'))).toBeUndefined();
    expect(reportIssueDateOf(report('final', '2026-03-08T10:00:00Z'))).toEqual(at('2026-03-08T10:00:00Z'));
    expect(reportIssueDateOf(report('final'))).toEqual(at('2026-03-09T12:00:00Z'));
    expect(
      reportIssueDate([
        report('preliminary', '2026-03-07T10:00:00Z'),
        report('amended', '2026-03-10T10:00:00Z'),
        report('final', '2026-03-08T10:00:00Z'),
      ]),
    ).toEqual(at('2026-03-08T10:00:00Z'));
  });
});

describe('a DIDS record', () => {
  const order = exampleServiceRequest({
    authoredOn: '2026-03-01T08:00:00Z',
    extension: [
      {
        url: EXTENSIONS.requestingClinician,
        valueReference: { identifier: { system: SYSTEMS.practitionerRole, value: 'n81001-patel' } },
      },
    ],
  });
  const studies: ImagingStudy[] = [exampleImagingStudy({ started: '2026-03-05T10:00:00Z' })];
  const reports: DiagnosticReport[] = [exampleDiagnosticReport({ issued: '2026-03-06T16:00:00Z' })];
  const fulfilmentVersions = [
    version(1, 'requested', '2026-03-01T08:00:00Z', '2026-03-01T08:00:02Z'),
    version(2, 'accepted', '2026-03-02T09:00:00Z', '2026-03-02T09:00:01Z'),
  ];

  it('holds the four dates, the waits between them, and who and what', () => {
    expect(didsRecordOf({ order, fulfilmentVersions, studies, reports, requesterKind: 'gp-practice' })).toEqual({
      order: 'N81001-000123',
      sourceSetting: 'gp-direct-access',
      referrer: 'n81001-patel',
      referringOrganisation: 'N81001',
      performer: 'RM1',
      procedure: '169069000',
      accession: 'RM1-ACC-000123',
      requestDate: at('2026-03-01T08:00:00Z'),
      requestReceivedDate: at('2026-03-02T09:00:00Z'),
      testDate: at('2026-03-05T10:00:00Z'),
      reportIssueDate: at('2026-03-06T16:00:00Z'),
      turnaround: {
        requestToReceivedMs: DAY + HOUR,
        requestToTestMs: 4 * DAY + 2 * HOUR,
        testToReportMs: DAY + 6 * HOUR,
        requestToReportMs: 5 * DAY + 8 * HOUR,
      },
    } satisfies DidsRecord);
  });

  it('leaves out what has not happened yet', () => {
    expect(didsRecordOf({ order: exampleServiceRequest({ authoredOn: '2026-03-01T08:00:00Z' }) })).toEqual({
      order: 'N81001-000123',
      sourceSetting: 'other',
      referringOrganisation: 'N81001',
      performer: 'RM1',
      procedure: '169069000',
      requestDate: at('2026-03-01T08:00:00Z'),
      turnaround: {},
    });
    const tested = didsRecordOf({ order, studies });
    expect(tested.turnaround).toEqual({ requestToTestMs: 4 * DAY + 2 * HOUR });
    expect(tested.reportIssueDate).toBeUndefined();
  });

  it("is derived from a case as a region's store holds it: the order, the Task's history, the study, the report", async () => {
    const { regions, midlands } = await reportedCase();
    const versions = await regions.midlands.store.history<Task>('Task', midlands.Task.id);
    const record = didsRecordOf({
      order: midlands.ServiceRequest,
      fulfilmentVersions: versions,
      studies: [midlands.ImagingStudy],
      reports: [midlands.DiagnosticReport],
      requesterKind: 'gp-practice',
    });
    const accepted = versions.find((v) => v.status === 'accepted');
    expect(record).toMatchObject({
      requestDate: at(midlands.ServiceRequest.authoredOn as string),
      requestReceivedDate: at(accepted?.lastModified as string),
      testDate: at(midlands.ImagingStudy.started as string),
      reportIssueDate: at(midlands.DiagnosticReport.issued as string),
      sourceSetting: 'gp-direct-access',
    });
  });
});

describe('turnaround by source setting', () => {
  const record = (sourceSetting: SourceSetting, requestToTestDays?: number, testToReportDays?: number): DidsRecord => ({
    sourceSetting,
    turnaround: {
      ...(requestToTestDays !== undefined ? { requestToTestMs: requestToTestDays * DAY } : {}),
      ...(testToReportDays !== undefined ? { testToReportMs: testToReportDays * DAY } : {}),
      ...(requestToTestDays !== undefined && testToReportDays !== undefined
        ? { requestToReportMs: (requestToTestDays + testToReportDays) * DAY }
        : {}),
    },
  });

  it('summarises each wait with nearest-rank percentiles, over the cases that have it', () => {
    expect(summariseWaits([])).toEqual({ count: 0 });
    expect(summariseWaits([undefined, 7])).toEqual({ count: 1, medianMs: 7, p90Ms: 7, maxMs: 7 });
    expect(summariseWaits([10, 1, 9, 2, 8, 3, 7, 4, 6, 5])).toEqual({ count: 10, medianMs: 5, p90Ms: 9, maxMs: 10 });
    expect(summariseWaits([3, 1, 2])).toEqual({ count: 3, medianMs: 2, p90Ms: 3, maxMs: 3 });
  });

  it('gives every setting, each with its own cases', () => {
    const summary = turnaroundBySourceSetting([
      record('gp-direct-access', 10, 2),
      record('gp-direct-access', 20, 4),
      record('gp-direct-access', 30),
      record('emergency', 0.1, 0.05),
      record('inpatient'),
    ]);
    expect(Object.keys(summary)).toEqual([...SOURCE_SETTINGS]);
    expect(summary['gp-direct-access']).toEqual({
      cases: 3,
      requestToTest: { count: 3, medianMs: 20 * DAY, p90Ms: 30 * DAY, maxMs: 30 * DAY },
      testToReport: { count: 2, medianMs: 2 * DAY, p90Ms: 4 * DAY, maxMs: 4 * DAY },
      requestToReport: { count: 2, medianMs: 12 * DAY, p90Ms: 24 * DAY, maxMs: 24 * DAY },
    });
    expect(summary.emergency.requestToReport.medianMs).toBeCloseTo(0.15 * DAY);
    expect(summary.inpatient).toEqual({
      cases: 1,
      requestToTest: { count: 0 },
      testToReport: { count: 0 },
      requestToReport: { count: 0 },
    });
    expect(summary.outpatient.cases).toBe(0);
  });
});

describe('a DIDS date', () => {
  it('is the calendar date in England, summer time included', () => {
    expect(didsDate(at('2026-07-01T23:30:00Z'))).toBe('2026-07-02'); // 00:30 BST
    expect(didsDate(at('2026-12-01T23:30:00Z'))).toBe('2026-12-01'); // 23:30 GMT
    expect(didsDate(at('2026-03-29T00:30:00Z'))).toBe('2026-03-29'); // the night the clocks go forward
  });
});
