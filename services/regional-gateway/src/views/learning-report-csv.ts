import { SOURCE_SETTINGS } from '../domain/dids.ts';
import type { LearningReport } from '../domain/learning-report.ts';

/**
 * The learning report as one CSV table (RFC 4180: CRLF line ends, every row the same columns, a field with
 * a comma, a quote or a line break in double quotes with its quotes doubled), for a spreadsheet. One row per
 * figure (`summary`, `turnaround-target`, `source-setting`) and one per listed item, the `section` column
 * saying which; a column an item does not have is empty. Times are ISO 8601 UTC, DIDS dates the calendar
 * date in England, waits in hours.
 */
export const CSV_COLUMNS = [
  'section',
  'measure',
  'value',
  'correlation_id',
  'reference',
  'related',
  'kind',
  'category',
  'pathway',
  'due_at',
  'done_at',
  'outcome',
  'late_by_hours',
  'step',
  'source_setting',
  'request_date',
  'request_received_date',
  'test_date',
  'report_issue_date',
  'request_to_test_hours',
  'test_to_report_hours',
  'request_to_report_hours',
] as const;

type Column = (typeof CSV_COLUMNS)[number];
type Row = Partial<Record<Column, string | number | undefined>>;

const hours = (ms: number | undefined) => (ms === undefined ? undefined : Math.round((ms / 3_600_000) * 100) / 100);

/**
 * One field. A text that a spreadsheet would run as a formula (it starts with =, +, -, @, a tab or a carriage
 * return) gets a leading apostrophe, so a crafted correlation id cannot become one; numbers are left alone.
 */
export function csvField(value: string | number | undefined): string {
  if (value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function learningReportCsv(report: LearningReport): string {
  const rows: Row[] = [];
  const summary = (measure: string, value: string | number | undefined) =>
    rows.push({ section: 'summary', measure, value });
  summary('organisation', report.organisation);
  summary('region', report.region);
  summary('quarter', report.quarter.id);
  summary('quarter_start', report.quarter.start);
  summary('quarter_end', report.quarter.end);
  summary('generated_at', report.generatedAt);
  summary('delayed_reports', report.delayedReports.count);
  summary('delayed_reports_open', report.delayedReports.open);
  const ack = report.acknowledgements;
  summary('acknowledgements_due', ack.due);
  summary('acknowledgements_on_time', ack.onTime);
  summary('acknowledgements_late', ack.late);
  summary('acknowledgements_missed', ack.missed);
  summary('acknowledgements_pending', ack.pending);
  summary('acknowledgements_on_time_rate', ack.onTimeRate);
  summary('fail_safe_officer_alerts', report.failSafe.alerts);
  summary('fail_safe_officer_breaches', report.failSafe.breaches);
  summary('dids_cases', report.dids.cases);
  summary('unreadable_tasks', report.unreadable.length);
  for (const t of report.turnaround.targets) {
    const row = { section: 'turnaround-target', kind: t.target };
    rows.push({ ...row, measure: 'target_hours', value: hours(t.targetMs) });
    rows.push({ ...row, measure: 'due', value: t.due });
    rows.push({ ...row, measure: 'met', value: t.met });
    rows.push({ ...row, measure: 'missed', value: t.missed });
    rows.push({ ...row, measure: 'pending', value: t.pending });
    rows.push({ ...row, measure: 'met_rate', value: t.metRate });
  }
  for (const setting of SOURCE_SETTINGS) {
    const s = report.dids.bySourceSetting[setting];
    if (!s.cases) continue;
    rows.push({ section: 'source-setting', source_setting: setting, measure: 'cases', value: s.cases });
    for (const [wait, summaryOf] of [
      ['request_to_test', s.requestToTest],
      ['test_to_report', s.testToReport],
      ['request_to_report', s.requestToReport],
    ] as const) {
      const base = { section: 'source-setting', source_setting: setting };
      rows.push({ ...base, measure: `${wait}_count`, value: summaryOf.count });
      rows.push({ ...base, measure: `${wait}_median_hours`, value: hours(summaryOf.medianMs) });
      rows.push({ ...base, measure: `${wait}_p90_hours`, value: hours(summaryOf.p90Ms) });
    }
  }
  for (const d of report.delayedReports.items)
    rows.push({
      section: 'delayed-report',
      correlation_id: d.correlationId,
      reference: d.breach,
      related: `${d.order} ${d.study}`,
      kind: d.kind,
      pathway: d.pathway,
      due_at: d.dueAt,
      done_at: d.resolvedAt,
      outcome: d.resolution ?? 'open',
      late_by_hours: hours(d.lateByMs),
      step: d.step,
    });
  for (const a of ack.items)
    rows.push({
      section: 'acknowledgement',
      correlation_id: a.correlationId,
      reference: a.alert,
      related: `${a.report} ${a.order}`,
      kind: a.kind,
      category: a.category,
      due_at: a.dueAt,
      done_at: a.acknowledgedAt,
      outcome: a.outcome,
      late_by_hours: hours(a.lateByMs),
      step: a.step,
    });
  for (const f of report.failSafe.items)
    rows.push({
      section: 'fail-safe',
      correlation_id: f.correlationId,
      reference: f.task,
      related: `${f.about} ${f.audit}`,
      kind: f.what,
      category: f.reason,
      done_at: f.reachedAt,
      value: f.reminders,
      measure: 'reminders',
    });
  for (const b of report.turnaround.breaches)
    rows.push({
      section: 'turnaround-breach',
      correlation_id: b.correlationId,
      reference: b.breach,
      related: b.order,
      kind: b.kind,
      pathway: b.pathway,
      due_at: b.dueAt,
      done_at: b.resolvedAt,
      outcome: b.resolution ?? 'open',
      late_by_hours: hours(b.lateByMs),
      step: b.step,
    });
  for (const c of report.dids.items)
    rows.push({
      section: 'dids',
      correlation_id: c.correlationId,
      reference: c.order,
      related: [c.placerOrder, c.accession].filter(Boolean).join(' ') || undefined,
      kind: c.procedure,
      source_setting: c.sourceSetting,
      request_date: c.requestDate,
      request_received_date: c.requestReceivedDate,
      test_date: c.testDate,
      report_issue_date: c.reportIssueDate,
      request_to_test_hours: hours(c.requestToTestMs),
      test_to_report_hours: hours(c.testToReportMs),
      request_to_report_hours: hours(c.requestToReportMs),
    });
  for (const task of report.unreadable) rows.push({ section: 'unreadable', reference: task });
  const lines = [CSV_COLUMNS.join(','), ...rows.map((row) => CSV_COLUMNS.map((c) => csvField(row[c])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
