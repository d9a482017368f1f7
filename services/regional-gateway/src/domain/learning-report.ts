import type { AuditEvent, DiagnosticReport, ImagingStudy, Reference, ServiceRequest, Task } from '@medplum/fhirtypes';
import {
  BREACH_KIND_INFO,
  CODE_SYSTEMS,
  isOutcomeError,
  odsOf,
  readIfPresent,
  REFERRAL_PATHWAY_DISPLAY,
  searchAll,
  taskCodeOf,
  token,
} from '@imaging/fhir';
import type { AcknowledgedAlertCategory, BreachKind, ReferralPathway, WithId } from '@imaging/fhir';
import type { Alert } from './alert-task.ts';
import { alertOf } from './alert-task.ts';
import type { DidsRecord, RequesterKind, SourceSetting, SourceSettingTurnaround } from './dids.ts';
import { didsDate, didsRecordOf, turnaroundBySourceSetting } from './dids.ts';
import { orderOfResult } from './result-order.ts';
import { accessFilter, hasAccess } from './labels.ts';
import type { AlertSettings, GatewayDeps, TurnaroundSettings } from './ports.ts';
import type { Quarter } from './quarter.ts';
import { inQuarter } from './quarter.ts';
import type { TurnaroundBreach, TurnaroundWatch } from './turnaround-task.ts';
import { breachOf, watchOf } from './turnaround-task.ts';
import { caseOfTask } from './identifiers.ts';

/**
 * The learning report (docs/clinical-safety.md, Learning report; DOMAIN.md §2: departments review learning at
 * least 4 times a year): for one organisation and one calendar quarter, what this gateway's store shows of
 * - reports delayed past a due time (report-overdue and reporting-tat breaches);
 * - result alerts acknowledged late, or not at all;
 * - alerts and breaches that climbed to the network's fail-safe officer;
 * - each turnaround target: how often it was met;
 * - the DIDS dates of each case tested in the quarter, and the waits per patient source setting.
 * The organisation's part is what its access labels let it see: a practice's orders, a provider's work.
 * Each item counts in the quarter its due time fell in (an arrival at the fail-safe officer: when it
 * happened). Every item names its case (X-Correlation-ID) and resources, and nothing about the patient:
 * no name, NHS number or Patient reference, because the report is printed and filed for governance
 * meetings; an authorised reviewer reaches the patient from the case, through the gateway, where access
 * is checked.
 *
 * `learningReport` reads the store; `buildLearningReport` is the pure part, over decoded Tasks.
 */

export const LEARNING_REPORT_TYPE = 'imaging-connect/learning-report';
/** Bumped when the JSON shape changes in a way a reader would notice (docs/api.md, Learning report). */
export const LEARNING_REPORT_VERSION = 1;

/** An organisation's learning report for a quarter: the JSON the endpoint gives (docs/api.md). */
export interface LearningReport {
  reportType: typeof LEARNING_REPORT_TYPE;
  version: typeof LEARNING_REPORT_VERSION;
  /** ODS code. */
  organisation: string;
  region: string;
  quarter: { id: string; start: string; end: string };
  generatedAt: string;
  /** The targets the figures are measured against: this gateway's settings. */
  targets: ReportTargets;
  delayedReports: { count: number; open: number; items: DelayedReport[] };
  acknowledgements: AcknowledgementSummary;
  failSafe: { count: number; alerts: number; breaches: number; items: FailSafeArrival[] };
  turnaround: { targets: TargetResult[]; breaches: BreachItem[] };
  dids: {
    cases: number;
    bySourceSetting: Record<SourceSetting, SourceSettingTurnaround>;
    items: DidsItem[];
  };
  /** Tasks of this organisation that could not be read as what their code says (edited by hand): left out. */
  unreadable: string[];
}

export interface ReportTargets {
  acknowledgementMs: Readonly<Record<AcknowledgedAlertCategory, number>>;
  reportDueMs: Readonly<Record<Exclude<ReferralPathway, 'routine'>, number>>;
  reportingTatMs: number;
  dm01WaitMs: number;
  cesImagingWithinMs: number;
}

/** A report not issued by a due time: its breach. */
export interface DelayedReport {
  correlationId: string;
  /** The breach Task. */
  breach: string;
  order: string;
  /** The study whose report was awaited. */
  study: string;
  kind: BreachKind;
  pathway: ReferralPathway;
  dueAt: string;
  /** When the report was issued (or the order closed); absent while still awaited. */
  resolvedAt?: string;
  resolution?: 'done' | 'order-closed';
  /** From the due time to the resolution, or to when the report was made while still open. */
  lateByMs: number;
  /** How far up its ladder the breach went. */
  step: string;
}

export type AcknowledgementOutcome = 'on-time' | 'late' | 'missed' | 'pending';

export interface AcknowledgementSummary {
  /** Alerts whose acknowledgement was due in the quarter. */
  due: number;
  onTime: number;
  late: number;
  /** Due and still unacknowledged when the report was made. */
  missed: number;
  /** Not due yet when the report was made (the quarter is not over). */
  pending: number;
  /** On time among those decided (on time, late, missed), 0-1; absent when none is. */
  onTimeRate?: number;
  /** The late and missed ones. */
  items: AcknowledgementItem[];
}

export interface AcknowledgementItem {
  correlationId: string;
  /** The alert Task: the requester's (acknowledge-result) or, in the performer's region, its watch. */
  alert: string;
  kind: Alert['kind'];
  report: string;
  order: string;
  category: AcknowledgedAlertCategory;
  raisedAt: string;
  dueAt: string;
  acknowledgedAt?: string;
  outcome: 'late' | 'missed';
  /** From the due time to the acknowledgement, or to when the report was made. */
  lateByMs: number;
  step: string;
}

export interface FailSafeArrival {
  correlationId: string;
  what: 'alert' | 'breach';
  /** The alert or breach Task. */
  task: string;
  /** The report (an alert) or what was awaited (a breach). */
  about: string;
  /** The alert category, or the breach kind. */
  reason: string;
  raisedAt: string;
  reachedAt: string;
  /** The AuditEvent of the arrival. */
  audit: string;
  /** Reminders the fail-safe officer was sent in the quarter after it arrived. */
  reminders: number;
}

export type TargetKey =
  | 'ces-imaging'
  | 'dm01'
  | 'reporting-tat'
  | `report-overdue:${Exclude<ReferralPathway, 'routine'>}`;

export interface TargetResult {
  target: TargetKey;
  label: string;
  targetMs: number;
  /** Due times that fell in the quarter. */
  due: number;
  met: number;
  missed: number;
  /** Not due yet, or due and not yet checked by the safety job. */
  pending: number;
  /** Met among those decided, 0-1; absent when none is. */
  metRate?: number;
}

/** A test not done in time (DM01, a suspected-CES MRI): its breach. */
export interface BreachItem {
  correlationId: string;
  breach: string;
  order: string;
  kind: BreachKind;
  pathway: ReferralPathway;
  dueAt: string;
  resolvedAt?: string;
  resolution?: 'done' | 'order-closed';
  lateByMs: number;
  step: string;
}

/** One case's DIDS record: dates as the calendar date in England, and the waits. */
export interface DidsItem {
  correlationId?: string;
  order: string;
  placerOrder?: string;
  accession?: string;
  sourceSetting: SourceSetting;
  procedure?: string;
  referringOrganisation?: string;
  performer?: string;
  requestDate?: string;
  requestReceivedDate?: string;
  testDate?: string;
  reportIssueDate?: string;
  requestToTestMs?: number;
  testToReportMs?: number;
  requestToReportMs?: number;
}

/** What the report is built from, decoded: the organisation's Tasks and cases, as the store holds them. */
export interface LearningData {
  alerts: Alert[];
  watches: TurnaroundWatch[];
  breaches: TurnaroundBreach[];
  /** Every escalation to the fail-safe officer recorded in the quarter, of this organisation's Tasks. */
  failSafeSteps: FailSafeStep[];
  cases: DidsCaseRecord[];
  unreadable: string[];
}

export interface FailSafeStep {
  audit: string;
  recorded: Date;
  reminder: boolean;
  task: { what: 'alert'; alert: Alert } | { what: 'breach'; breach: TurnaroundBreach };
}

export interface DidsCaseRecord {
  order: string;
  correlationId?: string;
  record: DidsRecord;
}

export interface ReportContext {
  organisation: string;
  region: string;
  quarter: Quarter;
  now: Date;
  alerts: Pick<AlertSettings, 'acknowledgementWindowsMs'>;
  turnaround: Pick<TurnaroundSettings, 'reportDueMs' | 'reportingTatMs' | 'dm01WaitMs' | 'cesImagingWithinMs'>;
}

const REPORT_KINDS: ReadonlySet<BreachKind> = new Set(['report-overdue', 'reporting-tat']);

const iso = (d: Date) => d.toISOString();
const lateBy = (due: Date, done: Date | undefined, now: Date) => Math.max(0, (done ?? now).getTime() - due.getTime());
const rate = (good: number, decided: number) => (decided ? Math.round((good / decided) * 1000) / 1000 : undefined);
const ref = (type: string, id: string) => `${type}/${id}`;
const maybe = <K extends string, V>(key: K, value: V | undefined) =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;

/** The report, from decoded data: pure, so its figures can be checked exactly. */
export function buildLearningReport(context: ReportContext, data: LearningData): LearningReport {
  const { quarter, now } = context;
  const breachesDue = data.breaches
    .filter((b) => inQuarter(quarter, b.dueAt))
    .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
  const delayed = breachesDue.filter((b) => REPORT_KINDS.has(b.kind)).map((b) => delayedReportOf(b, now));
  return {
    reportType: LEARNING_REPORT_TYPE,
    version: LEARNING_REPORT_VERSION,
    organisation: context.organisation,
    region: context.region,
    quarter: { id: quarter.id, start: iso(quarter.start), end: iso(quarter.end) },
    generatedAt: iso(now),
    targets: {
      acknowledgementMs: context.alerts.acknowledgementWindowsMs,
      reportDueMs: context.turnaround.reportDueMs,
      reportingTatMs: context.turnaround.reportingTatMs,
      dm01WaitMs: context.turnaround.dm01WaitMs,
      cesImagingWithinMs: context.turnaround.cesImagingWithinMs,
    },
    delayedReports: { count: delayed.length, open: delayed.filter((d) => !d.resolvedAt).length, items: delayed },
    acknowledgements: acknowledgementsOf(data.alerts, quarter, now),
    failSafe: failSafeOf(data.failSafeSteps, quarter),
    turnaround: {
      targets: targetsOf(data.watches, context),
      breaches: breachesDue.filter((b) => !REPORT_KINDS.has(b.kind)).map((b) => breachItemOf(b, now)),
    },
    dids: didsOf(data.cases),
    unreadable: [...data.unreadable].sort(),
  };
}

function breachItemOf(breach: TurnaroundBreach, now: Date): BreachItem {
  return {
    correlationId: breach.correlationId,
    breach: ref('Task', breach.id),
    order: breach.order.reference ?? '',
    kind: breach.kind,
    pathway: breach.pathway,
    dueAt: iso(breach.dueAt),
    ...maybe('resolvedAt', breach.resolution && iso(breach.resolution.at)),
    ...maybe('resolution', breach.resolution?.how),
    lateByMs: lateBy(breach.dueAt, breach.resolution?.at, now),
    step: breach.step,
  };
}

function delayedReportOf(breach: TurnaroundBreach, now: Date): DelayedReport {
  const { correlationId, breach: task, order, ...rest } = breachItemOf(breach, now);
  return { correlationId, breach: task, order, study: breach.focus.reference ?? '', ...rest };
}

function acknowledgementsOf(alerts: readonly Alert[], quarter: Quarter, now: Date): AcknowledgementSummary {
  const counts: Record<AcknowledgementOutcome, number> = { 'on-time': 0, late: 0, missed: 0, pending: 0 };
  const items: AcknowledgementItem[] = [];
  const due = alerts
    .filter((a) => inQuarter(quarter, a.acknowledgementDueAt))
    .sort((a, b) => a.acknowledgementDueAt.getTime() - b.acknowledgementDueAt.getTime());
  for (const alert of due) {
    const at = alert.acknowledgement?.at;
    const dueAt = alert.acknowledgementDueAt;
    const outcome: AcknowledgementOutcome = at
      ? at.getTime() <= dueAt.getTime()
        ? 'on-time'
        : 'late'
      : dueAt.getTime() <= now.getTime()
        ? 'missed'
        : 'pending';
    counts[outcome]++;
    if (outcome === 'late' || outcome === 'missed')
      items.push({
        correlationId: alert.correlationId,
        alert: ref('Task', alert.id),
        kind: alert.kind,
        report: alert.report.reference ?? '',
        order: alert.order.reference ?? '',
        category: alert.category,
        raisedAt: iso(alert.raisedAt),
        dueAt: iso(dueAt),
        ...maybe('acknowledgedAt', at && iso(at)),
        outcome,
        lateByMs: lateBy(dueAt, at, now),
        step: alert.step,
      });
  }
  const decided = counts['on-time'] + counts.late + counts.missed;
  return {
    due: due.length,
    onTime: counts['on-time'],
    late: counts.late,
    missed: counts.missed,
    pending: counts.pending,
    ...maybe('onTimeRate', rate(counts['on-time'], decided)),
    items,
  };
}

/** Each alert or breach whose first arrival at the fail-safe officer was in the quarter, with its reminders. */
function failSafeOf(steps: readonly FailSafeStep[], quarter: Quarter): LearningReport['failSafe'] {
  const sorted = [...steps].sort((a, b) => a.recorded.getTime() - b.recorded.getTime());
  const byTask = new Map<string, FailSafeArrival>();
  for (const step of sorted) {
    if (!inQuarter(quarter, step.recorded)) continue;
    const task = step.task.what === 'alert' ? step.task.alert : step.task.breach;
    const key = ref('Task', task.id);
    const known = byTask.get(key);
    if (known) {
      known.reminders++;
      continue;
    }
    // Only reminders in the quarter: it arrived in an earlier one, and counts there.
    if (step.reminder) continue;
    byTask.set(key, {
      correlationId: task.correlationId,
      what: step.task.what,
      task: key,
      about: (step.task.what === 'alert' ? step.task.alert.report : step.task.breach.focus).reference ?? '',
      reason: step.task.what === 'alert' ? step.task.alert.category : step.task.breach.kind,
      raisedAt: iso(task.raisedAt),
      reachedAt: iso(step.recorded),
      audit: step.audit,
      reminders: 0,
    });
  }
  const items = [...byTask.values()];
  return {
    count: items.length,
    alerts: items.filter((i) => i.what === 'alert').length,
    breaches: items.filter((i) => i.what === 'breach').length,
    items,
  };
}

const TARGET_ORDER: readonly TargetKey[] = [
  'ces-imaging',
  'dm01',
  'report-overdue:ces',
  'report-overdue:suspected-cancer',
  'report-overdue:urgent',
  'reporting-tat',
];

function targetOf(kind: BreachKind, pathway: ReferralPathway): TargetKey {
  return kind === 'report-overdue' && pathway !== 'routine' ? `report-overdue:${pathway}` : (kind as TargetKey);
}

function targetMsOf(target: TargetKey, settings: ReportContext['turnaround']): number {
  if (target === 'ces-imaging') return settings.cesImagingWithinMs;
  if (target === 'dm01') return settings.dm01WaitMs;
  if (target === 'reporting-tat') return settings.reportingTatMs;
  return settings.reportDueMs[target.slice('report-overdue:'.length) as Exclude<ReferralPathway, 'routine'>];
}

function targetLabel(target: TargetKey): string {
  if (!target.startsWith('report-overdue:')) return BREACH_KIND_INFO[target as BreachKind].display;
  const pathway = target.slice('report-overdue:'.length) as ReferralPathway;
  return `Report issued by its due time (${REFERRAL_PATHWAY_DISPLAY[pathway]})`;
}

/**
 * Each target against the due times that fell in the quarter, from the watches: missed when a breach was
 * raised from it; met when it passed without one; pending when it is still to come or not yet looked at.
 * A due time of an order closed without its test or report (a void watch) counts for none.
 */
function targetsOf(watches: readonly TurnaroundWatch[], context: ReportContext): TargetResult[] {
  const { quarter, now } = context;
  const tally = new Map<TargetKey, { due: number; met: number; missed: number; pending: number }>();
  for (const watch of watches) {
    const raised = new Set(watch.raised.map((r) => r.kind));
    for (const deadline of watch.deadlines) {
      if (!inQuarter(quarter, deadline.dueAt)) continue;
      const missed = raised.has(deadline.kind);
      if (!missed && watch.state === 'void') continue;
      const key = targetOf(deadline.kind, watch.pathway);
      const t = tally.get(key) ?? { due: 0, met: 0, missed: 0, pending: 0 };
      t.due++;
      const unchecked =
        deadline.dueAt.getTime() > now.getTime() ||
        (watch.nextCheckAt !== undefined && watch.nextCheckAt.getTime() <= deadline.dueAt.getTime());
      if (missed) t.missed++;
      else if (unchecked) t.pending++;
      else t.met++;
      tally.set(key, t);
    }
  }
  return TARGET_ORDER.filter((key) => tally.has(key)).map((key) => {
    const t = tally.get(key) as { due: number; met: number; missed: number; pending: number };
    return {
      target: key,
      label: targetLabel(key),
      targetMs: targetMsOf(key, context.turnaround),
      ...t,
      ...maybe('metRate', rate(t.met, t.met + t.missed)),
    };
  });
}

function didsOf(cases: readonly DidsCaseRecord[]): LearningReport['dids'] {
  // By test time, then case: a stable order for the same data.
  const sorted = [...cases].sort(
    (a, b) =>
      (a.record.testDate?.getTime() ?? 0) - (b.record.testDate?.getTime() ?? 0) ||
      (a.correlationId ?? '').localeCompare(b.correlationId ?? '') ||
      a.order.localeCompare(b.order),
  );
  const day = (d: Date | undefined) => (d ? didsDate(d) : undefined);
  return {
    cases: sorted.length,
    bySourceSetting: turnaroundBySourceSetting(sorted.map((c) => c.record)),
    items: sorted.map(({ order, correlationId, record: r }) => ({
      ...maybe('correlationId', correlationId),
      order,
      ...maybe('placerOrder', r.order),
      ...maybe('accession', r.accession),
      sourceSetting: r.sourceSetting,
      ...maybe('procedure', r.procedure),
      ...maybe('referringOrganisation', r.referringOrganisation),
      ...maybe('performer', r.performer),
      ...maybe('requestDate', day(r.requestDate)),
      ...maybe('requestReceivedDate', day(r.requestReceivedDate)),
      ...maybe('testDate', day(r.testDate)),
      ...maybe('reportIssueDate', day(r.reportIssueDate)),
      ...maybe('requestToTestMs', r.turnaround.requestToTestMs),
      ...maybe('testToReportMs', r.turnaround.testToReportMs),
      ...maybe('requestToReportMs', r.turnaround.requestToReportMs),
    })),
  };
}

// ---- Reading the store ----

type ReportDeps = Pick<GatewayDeps, 'store' | 'clock' | 'region' | 'alerts' | 'turnaround'>;

/**
 * GP practice codes are a letter and five digits (N81001); trusts and their sites start with R or T and
 * are 3 or 5 characters. The order carries only the ODS code, and DIDS tells GP direct access by it.
 */
const GP_PRACTICE_CODE = /^[A-Z]\d{5}$/;

function requesterKindOf(ods: string | undefined): RequesterKind | undefined {
  return ods && GP_PRACTICE_CODE.test(ods) ? 'gp-practice' : undefined;
}

/** Decodes each Task, setting aside (by reference) any that does not hold what its code says. */
function decodeEach<T>(tasks: readonly WithId<Task>[], decode: (t: Task) => T, unreadable: string[]): T[] {
  return tasks.flatMap((task) => {
    try {
      return [decode(task)];
    } catch (err) {
      if (!isOutcomeError(err)) throw err;
      unreadable.push(ref('Task', task.id));
      return [];
    }
  });
}

const byCode = (...codes: string[]) => codes.map((c) => token(CODE_SYSTEMS.taskCode, c)).join(',');

/** The report for one organisation this gateway serves, for one quarter, as of now. */
export async function learningReport(
  deps: ReportDeps,
  organisation: string,
  quarter: Quarter,
): Promise<LearningReport> {
  const data = await learningData(deps, organisation, quarter);
  return buildLearningReport(
    {
      organisation,
      region: deps.region.regionId,
      quarter,
      now: deps.clock.now(),
      alerts: deps.alerts,
      turnaround: deps.turnaround,
    },
    data,
  );
}

/**
 * What the report needs, read through indexes with the organisation's access filter: Tasks created from
 * a bounded time before the quarter to a bounded time after it (a due time in the quarter cannot come from a
 * Task much older than its longest window, nor from one created much later: a watch or breach created more
 * than its longest window after the quarter is not counted in it), the quarter's escalations to the
 * fail-safe officer, and the studies done in it.
 */
export async function learningData(deps: ReportDeps, organisation: string, quarter: Quarter): Promise<LearningData> {
  const { store } = deps;
  const [key, value] = accessFilter(organisation);
  const mine = { [key]: value };
  const unreadable: string[] = [];
  const since = (ms: number) => `ge${new Date(quarter.start.getTime() - ms).toISOString()}`;
  // And to a bounded time after it: an old quarter reads that quarter's Tasks, not every Task since it.
  const until = (ms: number) => `lt${new Date(quarter.end.getTime() + ms).toISOString()}`;
  const longestAck = Math.max(...Object.values(deps.alerts.acknowledgementWindowsMs));
  const longestTurnaround = Math.max(
    deps.turnaround.dm01WaitMs,
    deps.turnaround.reportingTatMs,
    deps.turnaround.cesImagingWithinMs,
    ...Object.values(deps.turnaround.reportDueMs),
  );
  // An alert is raised when its report is; its acknowledgement falls due one window later.
  const alertTasks = await searchAll<Task>(store, 'Task', {
    ...mine,
    code: byCode('acknowledge-result', 'watch-acknowledgement'),
    // Raised after the quarter, an alert falls due after it too.
    'authored-on': [since(longestAck), until(0)],
  });
  // A watch is created when its stage begins (or later, for a backdated exam): never before a due time minus its window.
  const watchTasks = await searchAll<Task>(store, 'Task', {
    ...mine,
    code: byCode('watch-turnaround'),
    // A backdated exam's watch is created late: up to one window after the quarter, it may fall due in it.
    'authored-on': [since(longestTurnaround), until(longestTurnaround)],
  });
  // A breach is raised at or after its due time.
  const breachTasks = await searchAll<Task>(store, 'Task', {
    ...mine,
    code: byCode('resolve-breach'),
    // Raised when the safety job finds it, at most a window after a due time in the quarter.
    'authored-on': [since(0), until(longestTurnaround)],
  });
  return {
    alerts: decodeEach(alertTasks, alertOf, unreadable),
    watches: decodeEach(watchTasks, watchOf, unreadable),
    breaches: decodeEach(breachTasks, breachOf, unreadable),
    failSafeSteps: await failSafeSteps(deps, organisation, quarter, unreadable),
    cases: await didsCases(deps, organisation, quarter),
    unreadable,
  };
}

/** The entity an escalation's AuditEvent is about (its Task), which carries the step's details (audit.ts). */
const escalatedEntity = (event: AuditEvent) => event.entity?.find((e) => e.detail?.some((d) => d.type === 'to'));
const detailOf = (event: AuditEvent, type: string) =>
  escalatedEntity(event)?.detail?.find((d) => d.type === type)?.valueString;

/**
 * The quarter's escalations to the fail-safe officer (AuditEvents alert-escalated and breach-escalated),
 * of the organisation's alerts and breaches: each event's Task is read, and kept only when the
 * organisation may see it. Few events in a quarter reach the last step, so the reads are few.
 */
async function failSafeSteps(
  deps: ReportDeps,
  organisation: string,
  quarter: Quarter,
  unreadable: string[],
): Promise<FailSafeStep[]> {
  const events = await searchAll<AuditEvent>(deps.store, 'AuditEvent', {
    subtype: ['alert-escalated', 'breach-escalated'].map((s) => token(CODE_SYSTEMS.auditSubtype, s)).join(','),
    date: [`ge${quarter.start.toISOString()}`, `lt${quarter.end.toISOString()}`],
  });
  const tasks = new Map<string, WithId<Task> | undefined>();
  const steps: FailSafeStep[] = [];
  for (const event of events) {
    if (detailOf(event, 'to') !== 'fail-safe-officer') continue;
    const taskRef = escalatedEntity(event)?.what?.reference;
    if (!taskRef?.startsWith('Task/')) continue;
    if (!tasks.has(taskRef)) tasks.set(taskRef, await readTask(deps, taskRef.slice('Task/'.length)));
    const task = tasks.get(taskRef);
    if (!task || !hasAccess(task, organisation)) continue;
    const [decoded] = decodeEach(
      [task],
      (t): FailSafeStep['task'] =>
        taskCodeOf(t) === 'resolve-breach'
          ? { what: 'breach', breach: breachOf(t) }
          : { what: 'alert', alert: alertOf(t) },
      unreadable,
    );
    if (!decoded) continue;
    steps.push({
      audit: ref('AuditEvent', event.id),
      recorded: new Date(event.recorded),
      reminder: detailOf(event, 'reminder') === 'true',
      task: decoded,
    });
  }
  return steps;
}

function readTask(deps: ReportDeps, id: string): Promise<WithId<Task> | undefined> {
  return readIfPresent<Task>(deps.store, 'Task', id);
}

/**
 * The cases first tested in the quarter (DIDS counts a case by its test date), each with its order, the
 * fulfilment Task's versions, and the studies and reports for that order alone (orderOfResult): the DIDS
 * record of each. The test date is a study's `started`, or when it was stored (no `started`, or one
 * before the order was made), so the candidates are the studies started or stored in the quarter, and
 * each case is counted by its record's own test date.
 */
async function didsCases(deps: ReportDeps, organisation: string, quarter: Quarter): Promise<DidsCaseRecord[]> {
  const { store } = deps;
  const [key, value] = accessFilter(organisation);
  const within = [`ge${quarter.start.toISOString()}`, `lt${quarter.end.toISOString()}`];
  const candidates = [
    ...(await searchAll<ImagingStudy>(store, 'ImagingStudy', { [key]: value, started: within })),
    ...(await searchAll<ImagingStudy>(store, 'ImagingStudy', { [key]: value, _lastUpdated: within })),
  ];
  const orders = [...new Set(candidates.flatMap((s) => orderOfResult(s) ?? []))];
  const out: DidsCaseRecord[] = [];
  for (const orderRef of orders) {
    const order = await store.read<ServiceRequest>('ServiceRequest', orderRef.slice('ServiceRequest/'.length));
    if (!hasAccess(order, organisation)) continue;
    const forThisOrder = <T extends { basedOn?: Reference[] }>(results: T[]) =>
      results.filter((r) => orderOfResult(r) === orderRef);
    const studies = forThisOrder(await searchAll<ImagingStudy>(store, 'ImagingStudy', { basedon: orderRef }));
    const reports = forThisOrder(
      await searchAll<DiagnosticReport>(store, 'DiagnosticReport', { 'based-on': orderRef }),
    );
    const [fulfilment] = await searchAll<Task>(store, 'Task', { focus: orderRef, code: byCode('fulfil') });
    const versions = fulfilment ? await store.history<Task>('Task', fulfilment.id) : [];
    const requesterKind = requesterKindOf(odsOf(order.requester));
    const record = didsRecordOf({
      order,
      fulfilmentVersions: versions,
      studies,
      reports,
      ...(requesterKind ? { requesterKind } : {}),
    });
    if (!inQuarter(quarter, record.testDate)) continue;
    out.push({
      order: orderRef,
      ...maybe('correlationId', fulfilment ? caseOfTask(fulfilment) : undefined),
      record,
    });
  }
  return out;
}
