import { dateTime, escapeHtml, nhsukStylesheet } from '@imaging/html';
import { ALERT_STEP_DISPLAY, BREACH_KIND_INFO, isAlertStep, REFERRAL_PATHWAY_DISPLAY } from '@imaging/fhir';
import type { SourceSetting, WaitSummary } from '../domain/dids.ts';
import { SOURCE_SETTING_DISPLAY, SOURCE_SETTINGS } from '../domain/dids.ts';
import type { LearningReport } from '../domain/learning-report.ts';

/**
 * The learning report as a page, in the NHS design system's styling: one self-contained file (the
 * `nhsuk-frontend` package's stylesheet inline, nothing fetched), so the same page the endpoint serves can
 * be saved by the CLI, opened from a file, printed and filed. Every value is escaped: nothing a Task or a
 * client-chosen correlation id carries can become markup.
 */

/** What the page may load: its own inline styles, nothing else (no script, no image, no other origin). */
export const LEARNING_REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

const esc = (value: string | number | undefined): string => (value === undefined ? '' : escapeHtml(String(value)));

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** `July to September 2026`. */
export function quarterInWords(id: string): string {
  const [year, q] = id.split('-Q').map(Number) as [number, number];
  return `${MONTHS[(q - 1) * 3]} to ${MONTHS[(q - 1) * 3 + 2]} ${year}`;
}

/** `3 d 4 h`, `5 h 20 min`, `12 min`. */
export function duration(ms: number | undefined): string {
  if (ms === undefined) return '—';
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return hours % 24 ? `${Math.floor(hours / 24)} d ${hours % 24} h` : `${Math.floor(hours / 24)} d`;
}

const percent = (rate: number | undefined) => (rate === undefined ? '—' : `${Math.round(rate * 1000) / 10}%`);
const step = (value: string) => (isAlertStep(value) ? ALERT_STEP_DISPLAY[value] : value);

interface Table {
  id: string;
  caption: string;
  head: string[];
  rows: string[][];
  /** What to say when there are no rows. */
  none: string;
}

/** An NHS table of escaped cells (cells are escaped here), in a region that scrolls on a narrow screen. */
function table(t: Table): string {
  if (!t.rows.length) return `<p class="nhsuk-body" id="${t.id}-none">${esc(t.none)}</p>`;
  return `<div class="lr-scroll" role="region" aria-labelledby="${t.id}-caption" tabindex="0">
<table class="nhsuk-table" id="${t.id}">
<caption class="nhsuk-table__caption" id="${t.id}-caption">${esc(t.caption)}</caption>
<thead class="nhsuk-table__head"><tr class="nhsuk-table__row">${t.head.map((h) => `<th scope="col" class="nhsuk-table__header">${esc(h)}</th>`).join('')}</tr></thead>
<tbody class="nhsuk-table__body">
${t.rows.map((r) => `<tr class="nhsuk-table__row">${r.map((c) => `<td class="nhsuk-table__cell">${esc(c)}</td>`).join('')}</tr>`).join('\n')}
</tbody>
</table>
</div>`;
}

function figure(id: string, label: string, value: string | number, note?: string): string {
  return `<div class="nhsuk-summary-list__row">
<dt class="nhsuk-summary-list__key">${esc(label)}</dt>
<dd class="nhsuk-summary-list__value"><span id="figure-${id}">${esc(value)}</span>${note ? ` <span class="nhsuk-body-s">${esc(note)}</span>` : ''}</dd>
</div>`;
}

function waits(s: WaitSummary): string {
  return s.count ? `${duration(s.medianMs)} / ${duration(s.p90Ms)} (${s.count})` : '—';
}

export function learningReportHtml(report: LearningReport, css: string = nhsukStylesheet()): string {
  const ack = report.acknowledgements;
  const quarter = `${quarterInWords(report.quarter.id)} (${report.quarter.id})`;
  const settings = SOURCE_SETTINGS.filter((s: SourceSetting) => report.dids.bySourceSetting[s].cases > 0);
  const title = `Learning report: ${report.organisation}, ${quarter}`;
  return `<!DOCTYPE html>
<html lang="en-GB" class="nhsuk-template">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} – imaging-connect</title>
<style>${css}</style>
<style>.lr-scroll{overflow-x:auto;margin-bottom:32px}.lr-scroll .nhsuk-table{margin-bottom:0}</style>
</head>
<body class="nhsuk-template__body">
<a class="nhsuk-skip-link" href="#maincontent">Skip to main content</a>
<header class="nhsuk-header" role="banner">
<div class="nhsuk-header__container nhsuk-width-container">
<div class="nhsuk-header__service"><span class="nhsuk-header__service-name">imaging-connect learning report</span></div>
</div>
</header>
<div class="nhsuk-width-container">
<main class="nhsuk-main-wrapper" id="maincontent">
<h1 class="nhsuk-heading-l">${esc(title)}</h1>
<p class="nhsuk-body">What the ${esc(report.region)} regional gateway holds for ${esc(report.organisation)} for the quarter from ${esc(dateTime(report.quarter.start))} to ${esc(dateTime(report.quarter.end))}, as of ${esc(dateTime(report.generatedAt))}. Each item names its case (X-Correlation-ID) and resources to follow it up; nothing here identifies a patient.</p>

<h2 class="nhsuk-heading-m" id="summary-heading">Summary</h2>
<dl class="nhsuk-summary-list" id="summary" aria-labelledby="summary-heading">
${figure('delayed-reports', 'Reports delayed past a due time', report.delayedReports.count, `${report.delayedReports.open} still awaited`)}
${figure('acknowledgements-due', 'Alert acknowledgements due', ack.due)}
${figure('acknowledgements-on-time', 'Acknowledged on time', ack.onTime, `on-time rate ${percent(ack.onTimeRate)}`)}
${figure('acknowledgements-late', 'Acknowledged late', ack.late)}
${figure('acknowledgements-missed', 'Not acknowledged', ack.missed)}
${figure('acknowledgements-pending', 'Not due yet', ack.pending)}
${figure('fail-safe', 'Reached the fail-safe officer', report.failSafe.count, `${report.failSafe.alerts} alerts, ${report.failSafe.breaches} turnaround breaches`)}
${figure('dids-cases', 'Cases tested in the quarter', report.dids.cases)}
</dl>
${report.unreadable.length ? `<p class="nhsuk-body" id="unreadable">${esc(`${report.unreadable.length} Tasks could not be read and are left out: ${report.unreadable.join(', ')}.`)}</p>` : ''}

<h2 class="nhsuk-heading-m">Delayed reports</h2>
${table({
  id: 'delayed-reports',
  caption: 'Reports not issued by a due time in the quarter',
  head: ['Case', 'Breach', 'Target missed', 'Pathway', 'Due', 'Issued', 'Late by', 'Reached'],
  rows: report.delayedReports.items.map((d) => [
    d.correlationId,
    `${d.breach} (${d.study})`,
    BREACH_KIND_INFO[d.kind].display,
    REFERRAL_PATHWAY_DISPLAY[d.pathway],
    dateTime(d.dueAt),
    d.resolvedAt ? dateTime(d.resolvedAt) : 'still awaited',
    duration(d.lateByMs),
    step(d.step),
  ]),
  none: 'No report was delayed past a due time in the quarter.',
})}

<h2 class="nhsuk-heading-m">Missed or late acknowledgements</h2>
${table({
  id: 'acknowledgements',
  caption: 'Result alerts acknowledged late, or not at all',
  head: ['Case', 'Alert', 'Category', 'Raised', 'Due', 'Acknowledged', 'Late by', 'Reached'],
  rows: ack.items.map((a) => [
    a.correlationId,
    `${a.alert} (${a.report})`,
    a.category,
    dateTime(a.raisedAt),
    dateTime(a.dueAt),
    a.acknowledgedAt ? dateTime(a.acknowledgedAt) : 'not acknowledged',
    duration(a.lateByMs),
    step(a.step),
  ]),
  none: 'Every alert due in the quarter was acknowledged on time.',
})}

<h2 class="nhsuk-heading-m">Reached the fail-safe officer</h2>
${table({
  id: 'fail-safe',
  caption: 'Alerts and turnaround breaches escalated to the network’s fail-safe officer in the quarter',
  head: ['Case', 'What', 'Task', 'About', 'Raised', 'Reached', 'Reminders since'],
  rows: report.failSafe.items.map((f) => [
    f.correlationId,
    f.what === 'alert'
      ? `${f.reason} alert`
      : (BREACH_KIND_INFO[f.reason as keyof typeof BREACH_KIND_INFO]?.display ?? f.reason),
    f.task,
    f.about,
    dateTime(f.raisedAt),
    dateTime(f.reachedAt),
    String(f.reminders),
  ]),
  none: 'Nothing reached the fail-safe officer in the quarter.',
})}

<h2 class="nhsuk-heading-m">Turnaround against targets</h2>
${table({
  id: 'turnaround',
  caption: 'Due times that fell in the quarter, by target',
  head: ['Target', 'Within', 'Due', 'Met', 'Missed', 'Pending', 'Met rate'],
  rows: report.turnaround.targets.map((t) => [
    t.label,
    duration(t.targetMs),
    String(t.due),
    String(t.met),
    String(t.missed),
    String(t.pending),
    percent(t.metRate),
  ]),
  none: 'No turnaround due time fell in the quarter.',
})}
${table({
  id: 'turnaround-breaches',
  caption: 'Tests not done in time (DM01, suspected cauda equina MRI)',
  head: ['Case', 'Breach', 'Target missed', 'Pathway', 'Due', 'Done', 'Late by', 'Reached'],
  rows: report.turnaround.breaches.map((b) => [
    b.correlationId,
    b.breach,
    BREACH_KIND_INFO[b.kind].display,
    REFERRAL_PATHWAY_DISPLAY[b.pathway],
    dateTime(b.dueAt),
    b.resolvedAt
      ? b.resolution === 'order-closed'
        ? `order closed ${dateTime(b.resolvedAt)}`
        : dateTime(b.resolvedAt)
      : 'not yet',
    duration(b.lateByMs),
    step(b.step),
  ]),
  none: 'No test breached its due time in the quarter.',
})}

<h2 class="nhsuk-heading-m">DIDS dates and turnaround by source setting</h2>
${table({
  id: 'source-settings',
  caption: 'Median / 90th percentile wait (cases), by patient source setting',
  head: ['Source setting', 'Cases', 'Request to test', 'Test to report', 'Request to report'],
  rows: settings.map((s) => {
    const t = report.dids.bySourceSetting[s];
    return [
      SOURCE_SETTING_DISPLAY[s],
      String(t.cases),
      waits(t.requestToTest),
      waits(t.testToReport),
      waits(t.requestToReport),
    ];
  }),
  none: 'No case was tested in the quarter.',
})}
${table({
  id: 'dids',
  caption: 'Cases tested in the quarter: DIDS dates (England)',
  head: ['Case', 'Order', 'Accession', 'Setting', 'Requested', 'Received', 'Tested', 'Report issued'],
  rows: report.dids.items.map((c) => [
    c.correlationId ?? '—',
    c.placerOrder ? `${c.order} (${c.placerOrder})` : c.order,
    c.accession ?? '—',
    SOURCE_SETTING_DISPLAY[c.sourceSetting],
    c.requestDate ?? '—',
    c.requestReceivedDate ?? '—',
    c.testDate ?? '—',
    c.reportIssueDate ?? '—',
  ]),
  none: 'No case was tested in the quarter.',
})}
</main>
</div>
<footer class="nhsuk-footer" role="contentinfo">
<div class="nhsuk-width-container">
<p class="nhsuk-body-s">imaging-connect: a reference implementation of national and regional imaging connectivity. Generated ${esc(dateTime(report.generatedAt))}.</p>
</div>
</footer>
</body>
</html>
`;
}
