import type { DiagnosticReport, Encounter, ImagingStudy, ServiceRequest, Task } from '@medplum/fhirtypes';
import { EXTENSIONS, odsOf, SNOMED_SYSTEM, SYSTEMS } from '@imaging/fhir';

/**
 * The Diagnostic Imaging Dataset's dates and turnaround times (DOMAIN.md §4, requirement 17), derived from
 * FHIR timestamps only: pure functions over the resources of one case, for the learning report and the
 * turnaround rules, so both read the same test date and report-issue date.
 *
 * | DIDS field           | from                                                                              |
 * | -------------------- | --------------------------------------------------------------------------------- |
 * | request date         | ServiceRequest.authoredOn                                                         |
 * | request-received     | the fulfilment Task's first version past `requested` (its lastModified), else     |
 * |                      | when the Task was stored in this region (its first version's meta.lastUpdated)   |
 * | test date            | the earliest ImagingStudy.started of an `available` study (else when the study    |
 * |                      | was stored); a start before the request date is not believed: when it was stored  |
 * | report-issue date    | the earliest DiagnosticReport.issued of a final, amended or corrected report      |
 * |                      | (else when it was stored)                                                         |
 * | patient source       | the class of the order's encounter (contained, as the BaRS referral carries it); |
 * | setting              | an order without one is GP direct access when a GP practice placed it            |
 */

/** DIDS patient source settings (DOMAIN.md §4). */
export const SOURCE_SETTINGS = [
  'inpatient',
  'day-case',
  'outpatient',
  'gp-direct-access',
  'emergency',
  'other',
] as const;
export type SourceSetting = (typeof SOURCE_SETTINGS)[number];

export const SOURCE_SETTING_DISPLAY: Readonly<Record<SourceSetting, string>> = {
  inpatient: 'Admitted patient care: inpatient (IP)',
  'day-case': 'Admitted patient care: day case',
  outpatient: 'Outpatient (OP)',
  'gp-direct-access': 'GP direct access',
  emergency: 'Accident and emergency (A&E)',
  other: 'Other',
};

/** The kind of organisation that placed the order, as the hub's directory holds it. */
export type RequesterKind = 'gp-practice' | 'imaging-provider' | 'trust';

/** Report statuses at which a report has been issued to the referrer. */
const ISSUED_STATUSES: ReadonlySet<string> = new Set(['final', 'amended', 'corrected']);

/** Encounter.class codes (v3 ActCode) by source setting; AMB is outpatient, or GP direct access for a GP's order. */
const SETTING_OF_CLASS: Readonly<Record<string, SourceSetting>> = {
  EMER: 'emergency',
  IMP: 'inpatient',
  ACUTE: 'inpatient',
  NONAC: 'inpatient',
  SS: 'day-case',
  AMB: 'outpatient',
};

function time(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
}

/** The earliest of several times; undefined when none is known. */
export function earliestOf(dates: readonly (Date | undefined)[]): Date | undefined {
  const known = dates.filter((d): d is Date => d !== undefined);
  return known.length ? new Date(Math.min(...known.map((d) => d.getTime()))) : undefined;
}

/**
 * When the test was done: ImagingStudy.started, else when the study was stored. A start before the order
 * was made (`requestedAt`, its authoredOn) cannot be this order's test: the provider's claim is not
 * believed, and the test counts as done when the study was stored here (undefined before it is stored).
 */
export function testDateOf(study: ImagingStudy, requestedAt?: Date): Date | undefined {
  const started = time(study.started);
  if (started && requestedAt && started < requestedAt) return time(study.meta?.lastUpdated);
  return started ?? time(study.meta?.lastUpdated);
}

/**
 * Whether a study is the test done: only an `available` one. A `registered` study is not yet acquired, and
 * a `cancelled`, `entered-in-error` or `unknown` one is no test at all.
 */
export function isTestDone(study: Pick<ImagingStudy, 'status'>): boolean {
  return study.status === 'available';
}

/** Whether a report has been issued to the referrer (final, amended or corrected). */
export function isIssuedReport(report: Pick<DiagnosticReport, 'status'>): boolean {
  return ISSUED_STATUSES.has(report.status);
}

/** When an issued report was issued: DiagnosticReport.issued, else when it was stored; undefined when not issued. */
export function reportIssueDateOf(report: DiagnosticReport): Date | undefined {
  if (!isIssuedReport(report)) return undefined;
  return time(report.issued) ?? time(report.meta?.lastUpdated);
}

/**
 * The earliest test date of a case's studies: of those that are the test done (available), none before the
 * order was made (`requestedAt`, when known).
 */
export function testDate(studies: readonly ImagingStudy[], requestedAt?: Date): Date | undefined {
  return earliestOf(studies.filter(isTestDone).map((s) => testDateOf(s, requestedAt)));
}

/** The earliest issue date of a case's issued reports. */
export function reportIssueDate(reports: readonly DiagnosticReport[]): Date | undefined {
  return earliestOf(reports.map(reportIssueDateOf));
}

/**
 * When the request was received: the first version of the fulfilment Task past `requested` (received,
 * accepted…, its lastModified), else when the Task was first stored here. Versions in any order.
 */
export function requestReceivedDate(fulfilmentVersions: readonly Task[]): Date | undefined {
  const versions = [...fulfilmentVersions].sort((a, b) => versionNumber(a) - versionNumber(b));
  const moved = versions.find((v) => v.status !== 'requested' && v.status !== 'draft');
  if (moved) return time(moved.lastModified) ?? time(moved.meta?.lastUpdated);
  return time(versions[0]?.meta?.lastUpdated);
}

function versionNumber(task: Task): number {
  const version = Number(task.meta?.versionId);
  // Without a number, order by when stored: the store's history comes newest first.
  return Number.isFinite(version) ? version : (time(task.meta?.lastUpdated)?.getTime() ?? 0);
}

/** The encounter an order carries, contained (`ServiceRequest.encounter` = `#id`). */
function encounterOf(order: ServiceRequest): Encounter | undefined {
  const ref = order.encounter?.reference;
  if (!ref?.startsWith('#')) return undefined;
  return order.contained?.find((r): r is Encounter => r.resourceType === 'Encounter' && r.id === ref.slice(1));
}

/** The patient source setting, from the class of the order's encounter and who placed the order. */
export function sourceSettingOf(order: ServiceRequest, requesterKind?: RequesterKind): SourceSetting {
  const encounterClass = encounterOf(order)?.class?.code;
  const gp = requesterKind === 'gp-practice';
  if (!encounterClass) return gp ? 'gp-direct-access' : 'other';
  const setting = SETTING_OF_CLASS[encounterClass] ?? 'other';
  return setting === 'outpatient' && gp ? 'gp-direct-access' : setting;
}

/** One case's resources, as one region holds them. */
export interface DidsCase {
  order: ServiceRequest;
  /** The fulfilment Task's versions (`store.history`), in any order; the current one alone if that is all there is. */
  fulfilmentVersions?: readonly Task[];
  studies?: readonly ImagingStudy[];
  reports?: readonly DiagnosticReport[];
  /** Who placed the order, from the directory: tells GP direct access from other outpatients. */
  requesterKind?: RequesterKind;
}

/** Waits between the dates, in milliseconds; absent when either date is. */
export interface Turnaround {
  requestToReceivedMs?: number;
  requestToTestMs?: number;
  testToReportMs?: number;
  requestToReportMs?: number;
}

export interface DidsRecord {
  /** The placer order number. */
  order?: string;
  sourceSetting: SourceSetting;
  /** The requesting clinician (the directory's PractitionerRole identifier), when the order names one. */
  referrer?: string;
  /** The referring organisation's ODS code. */
  referringOrganisation?: string;
  /** The imaging provider's ODS code (DIDS site). */
  performer?: string;
  /** The procedure's SNOMED CT code. */
  procedure?: string;
  /** The accession number of the first study that carries one. */
  accession?: string;
  requestDate?: Date;
  requestReceivedDate?: Date;
  testDate?: Date;
  reportIssueDate?: Date;
  turnaround: Turnaround;
}

const between = (from: Date | undefined, to: Date | undefined) =>
  from && to ? to.getTime() - from.getTime() : undefined;

/** The same object without its undefined values, so an absent date is absent, not `undefined`. */
function present<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A case's DIDS record: its dates, the waits between them, and who and what it was. */
export function didsRecordOf(input: DidsCase): DidsRecord {
  const { order } = input;
  const studies = input.studies ?? [];
  const requestDate = time(order.authoredOn);
  const received = requestReceivedDate(input.fulfilmentVersions ?? []);
  const tested = testDate(studies, requestDate);
  const reported = reportIssueDate(input.reports ?? []);
  return {
    sourceSetting: sourceSettingOf(order, input.requesterKind),
    turnaround: present({
      requestToReceivedMs: between(requestDate, received),
      requestToTestMs: between(requestDate, tested),
      testToReportMs: between(tested, reported),
      requestToReportMs: between(requestDate, reported),
    }),
    ...present({
      order: order.identifier?.find((i) => i.system === SYSTEMS.placerOrder)?.value,
      referrer: order.extension?.find((e) => e.url === EXTENSIONS.requestingClinician)?.valueReference?.identifier
        ?.value,
      referringOrganisation: odsOf(order.requester),
      performer: odsOf(order.performer?.[0]),
      procedure: order.code?.coding?.find((c) => c.system === SNOMED_SYSTEM)?.code,
      accession: studies.flatMap((s) => s.identifier ?? []).find((i) => i.system === SYSTEMS.accession && i.value)
        ?.value,
      requestDate,
      requestReceivedDate: received,
      testDate: tested,
      reportIssueDate: reported,
    }),
  };
}

/** A wait's distribution over the cases that have it (nearest-rank percentiles). */
export interface WaitSummary {
  count: number;
  medianMs?: number;
  p90Ms?: number;
  maxMs?: number;
}

export interface SourceSettingTurnaround {
  /** Every case of this setting, whatever dates it has. */
  cases: number;
  requestToTest: WaitSummary;
  testToReport: WaitSummary;
  requestToReport: WaitSummary;
}

/** The nearest-rank percentile (`p` in 0-100) of sorted values. */
function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export function summariseWaits(values: readonly (number | undefined)[]): WaitSummary {
  const known = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  if (known.length === 0) return { count: 0 };
  return {
    count: known.length,
    medianMs: percentile(known, 50) as number,
    p90Ms: percentile(known, 90) as number,
    maxMs: known.at(-1) as number,
  };
}

/** Turnaround per patient source setting (requirement 17): every setting, with or without cases. */
export function turnaroundBySourceSetting(
  records: readonly DidsRecord[],
): Record<SourceSetting, SourceSettingTurnaround> {
  const out = {} as Record<SourceSetting, SourceSettingTurnaround>;
  for (const setting of SOURCE_SETTINGS) {
    const cases = records.filter((r) => r.sourceSetting === setting);
    out[setting] = {
      cases: cases.length,
      requestToTest: summariseWaits(cases.map((c) => c.turnaround.requestToTestMs)),
      testToReport: summariseWaits(cases.map((c) => c.turnaround.testToReportMs)),
      requestToReport: summariseWaits(cases.map((c) => c.turnaround.requestToReportMs)),
    };
  }
  return out;
}

const LONDON = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/London',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** A DIDS date: the calendar date in England (YYYY-MM-DD), so 23:30Z in summer is the next day. */
export function didsDate(date: Date): string {
  return LONDON.format(date);
}
