import type { CaseTimeline, Lane, ResourceRef, TimelineEntry } from '../domain/case-timeline.ts';
import { formatDuration } from '../domain/live.ts';
import type { Html } from './html.ts';
import { clockTime, html } from './html.ts';
import type { ViewerInfo } from './layout.ts';
import { page, tag } from './layout.ts';

/** Where the flow view shows one stored version: `/cases/<case>/resources/<source>/<type>/<id>/_history/<v>`. */
export function resourcePath(correlationId: string, ref: ResourceRef): string {
  return `/cases/${encodeURIComponent(correlationId)}/resources/${ref.source}/${ref.type}/${ref.id}/_history/${ref.version}`;
}

const KIND_TEXT: Record<TimelineEntry['kind'], string> = {
  request: 'Request',
  message: 'Message',
  status: 'Status',
  delivery: 'Delivery',
  audit: 'Audit',
  alert: 'Alert',
  result: 'Result',
};

export function casePage(timeline: CaseTimeline, viewer: ViewerInfo | undefined, path: string): Html {
  const { summary, lanes, entries } = timeline;
  const first = entries[0] ? Date.parse(entries[0].at) : 0;
  return page(
    { title: `Case ${timeline.correlationId}`, ...(viewer ? { viewer } : {}), path },
    html`
<a class="nhsuk-back-link" href="/">Back to the live flow</a>
<h1><span class="nhsuk-caption-l">Case</span> ${timeline.correlationId}</h1>
${
  entries.length === 0
    ? html`<p>No service holds anything about this case: check the correlation id (the X-Correlation-ID its messages carry).</p>`
    : html`
<dl class="nhsuk-summary-list">
  ${row('Order', summary.placer)}
  ${row('Procedure', summary.procedure)}
  ${row('Requested by', summary.requester ? `${summary.requester.name} (${summary.requester.ods}), ${summary.requester.region || 'unknown region'}` : undefined)}
  ${row('Performed by', summary.performer ? `${summary.performer.name} (${summary.performer.ods}), ${summary.performer.region || 'unknown region'}` : undefined)}
  ${row('Status now', summary.status)}
  ${row('Alert category of the report', summary.alertCategory)}
</dl>`
}
${
  timeline.missing.length
    ? html`<div class="nhsuk-card nhsuk-card--warning"><div class="nhsuk-card__content">
  <h2 class="nhsuk-card__heading">Part of the story is missing</h2>
  <p class="nhsuk-card__description">${timeline.missing.join(' and ')} could not be read just now. What it holds is not shown below.</p>
</div></div>`
    : ''
}
${entries.length ? storyTable(timeline, lanes, entries, first) : ''}
`,
  );
}

function row(key: string, value: string | undefined): Html | '' {
  return value
    ? html`<div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">${key}</dt><dd class="nhsuk-summary-list__value">${value}</dd></div>`
    : '';
}

/**
 * The swimlanes: a column per actor, a row per thing that happened, in time order. A request or message spans
 * the columns from its sender to its receiver, with an arrow; screen readers hear who it went from and to.
 */
function storyTable(timeline: CaseTimeline, lanes: Lane[], entries: TimelineEntry[], first: number): Html {
  const index = new Map(lanes.map((lane, i) => [lane.id, i]));
  return html`<h2>What happened, in order</h2>
<p>Each row is one thing that happened, in the column of whoever did it. An arrow is a request or a message from one to another.
"View" opens the stored FHIR resource version the row comes from.</p>
<div class="fv-lanes-wrapper" tabindex="0" role="region" aria-label="The case, actor by actor">
<table class="nhsuk-table fv-lanes">
  <caption class="nhsuk-table__caption nhsuk-u-visually-hidden">Case ${timeline.correlationId}, one row per event, one column per actor</caption>
  <thead class="nhsuk-table__head"><tr class="nhsuk-table__row">
    <th class="nhsuk-table__header" scope="col">Time</th>
    ${lanes.map((lane) => html`<th class="nhsuk-table__header fv-lane-head" scope="col">${lane.label}${lane.detail ? html`<span class="fv-lane-head__detail">${lane.detail}</span>` : ''}</th>`)}
    <th class="nhsuk-table__header" scope="col">Stored as</th>
  </tr></thead>
  <tbody class="nhsuk-table__body">
  ${entries.map((entry) => {
    const from = index.get(entry.lane) ?? 0;
    const to = entry.toLane !== undefined ? (index.get(entry.toLane) ?? from) : from;
    const [start, end] = from <= to ? [from, to] : [to, from];
    const direction = to > from ? 'right' : to < from ? 'left' : 'none';
    const fromLane = lanes[from]?.label ?? '';
    const toLane = lanes[to]?.label ?? '';
    return html`<tr class="nhsuk-table__row fv-row fv-row--${entry.kind}">
    <td class="nhsuk-table__cell fv-time"><time datetime="${entry.at}">${clockTime(entry.at)}</time><span class="fv-time__offset">+${formatDuration(Date.parse(entry.at) - first)}</span></td>
    ${Array.from({ length: start }, () => html`<td class="nhsuk-table__cell fv-lane"></td>`)}
    <td class="nhsuk-table__cell fv-lane fv-event fv-tone--${entry.tone}${direction === 'none' ? '' : ` fv-arrow fv-arrow--${direction}`}"${end > start ? html` colspan="${end - start + 1}"` : ''}>
      <span class="nhsuk-u-visually-hidden">${direction === 'none' ? `${fromLane}: ` : `From ${fromLane} to ${toLane}: `}</span>
      <span class="fv-event__kind">${KIND_TEXT[entry.kind]}</span> ${entry.text}${entry.tone === 'bad' ? html` ${tag('Problem', 'red')}` : ''}
    </td>
    ${Array.from({ length: lanes.length - 1 - end }, () => html`<td class="nhsuk-table__cell fv-lane"></td>`)}
    <td class="nhsuk-table__cell fv-ref">${entry.resource ? html`<a href="${resourcePath(timeline.correlationId, entry.resource)}">View<span class="nhsuk-u-visually-hidden"> the stored</span> ${entry.resource.type} v${entry.resource.version}</a>` : ''}</td>
  </tr>`;
  })}
  </tbody>
</table>
</div>`;
}
