import { ALERT_CATEGORIES, ALERT_CATEGORY_INFO } from '@imaging/fhir';
import type { ActivityItem, NodeView } from '../domain/live.ts';
import { HUB_NODE } from '../domain/ports.ts';
import type { DemoControls } from '../domain/ports.ts';
import type { SafetySummary } from '../domain/safety.ts';
import type { MapPosition } from '../domain/topology.ts';
import type { Html } from './html.ts';
import { ageText, clockTime, dateTime, html } from './html.ts';
import type { ViewerInfo } from './layout.ts';
import { banner, page, tag } from './layout.ts';

export interface OverviewModel {
  nodes: NodeView[];
  positions: ReadonlyMap<string, MapPosition>;
  activity: ActivityItem[];
  safety: SafetySummary;
  /** The demo's controls, on its development topology only. */
  demo?: Pick<DemoControls, 'about' | 'regions'>;
  notice?: { text: string; ok: boolean; correlationId?: string };
  /** Whether the view could read the hub's directory yet. */
  connected: boolean;
  viewer?: ViewerInfo;
  now: Date;
}

export function overviewPage(model: OverviewModel): Html {
  return page(
    { title: 'Live flow', script: true, ...(model.viewer ? { viewer: model.viewer } : {}), path: '/' },
    html`
<div id="notice-area">${model.notice ? banner(model.notice.text, model.notice.ok, caseLink(model.notice.correlationId)) : ''}</div>
<h1 class="nhsuk-heading-l fv-title">Imaging orders and results, moving between regions</h1>
<p class="fv-lede">An order placed in one region can be performed and reported in another. Each region has a gateway;
every message between regions goes through the national hub. This page shows that traffic as it happens.</p>
${model.connected ? '' : html`<div class="nhsuk-card nhsuk-card--warning"><div class="nhsuk-card__content"><h2 class="nhsuk-card__heading">Waiting for the national hub</h2><p class="nhsuk-card__description">The flow view cannot read the hub's directory yet, so it does not know the regions. It keeps trying.</p></div></div>`}
<div class="nhsuk-grid-row">
  <div class="nhsuk-grid-column-two-thirds">
    <h2 id="map-title">Services now</h2>
    <div class="fv-map" id="map" aria-describedby="map-help">
      <svg class="fv-map__lines" id="map-lines" aria-hidden="true" focusable="false"></svg>
      ${model.nodes.map((node) => nodeCard(node, model.positions.get(node.id), model.now))}
    </div>
    <p class="nhsuk-body-s fv-map__help" id="map-help">Dots are messages moving: from a region's gateway to the hub and on to another
    region. <span class="fv-key fv-key--ok">Green</span> arrived, <span class="fv-key fv-key--warn">orange</span> is waiting to be
    tried again, <span class="fv-key fv-key--bad">red</span> was refused.</p>
  </div>
  <div class="nhsuk-grid-column-one-third">
    <h2>What just happened</h2>
    <ol class="fv-activity" id="activity" aria-label="Messages and changes, newest first">
      ${model.activity.length ? model.activity.map(activityItem) : html`<li class="fv-activity__empty" id="activity-empty">Nothing has moved since this view started. Place an order to see one travel.</li>`}
    </ol>
  </div>
</div>
<div class="nhsuk-grid-row">
  ${model.demo ? html`<div class="nhsuk-grid-column-one-third">${demoControls(model.demo)}</div>` : ''}
  <div class="nhsuk-grid-column-one-third">${findCase()}</div>
  <div class="nhsuk-grid-column-one-third" id="safety">
    ${safetyPanel(model.safety, model.now)}
  </div>
</div>
${glossary()}
<div class="nhsuk-u-visually-hidden" id="announcer" aria-live="polite"></div>
`,
  );
}

const caseLink = (correlationId: string | undefined) =>
  correlationId ? { href: `/cases/${encodeURIComponent(correlationId)}`, text: 'See its case' } : undefined;

const STATUS_TAG = { up: ['Up', 'green'], down: ['Down', 'red'], unknown: ['Checking', 'grey'] } as const;

/** A node's card: up or down, its queue and its throughput. Sent again, whole, whenever it changes. */
export function nodeCard(node: NodeView, position: MapPosition | undefined, now: Date): Html {
  const [text, colour] = STATUS_TAG[node.status];
  const hub = node.id === HUB_NODE;
  const title = hub ? 'National hub' : `${node.id[0]?.toUpperCase()}${node.id.slice(1)} gateway`;
  const oldest = node.queue?.oldestQueuedAt;
  return html`<section class="fv-node fv-node--${node.status} fv-pos-${hub ? 'hub' : (position ?? 'left')}" id="node-${node.id}" data-node="${node.id}" aria-labelledby="node-${node.id}-title">
  <h3 class="fv-node__title" id="node-${node.id}-title">${title}${hub ? '' : html` <span class="fv-node__name">${node.name}</span>`}</h3>
  <p class="fv-node__status">${tag(text, colour)}${node.status === 'down' && node.reason ? html` <span class="fv-node__reason">${node.reason}</span>` : ''}</p>
  <dl class="fv-node__facts">
    ${
      hub
        ? html`<div><dt>Routed in the last minute</dt><dd>${node.perMinute}</dd></div>
    <div><dt>Not delivered in the last minute</dt><dd>${node.failedPerMinute}</dd></div>`
        : html`<div><dt>Waiting to send</dt><dd class="${(node.queue?.depth ?? 0) > 0 ? 'fv-warn' : ''}">${node.queue ? node.queue.depth : '—'}</dd></div>
    <div><dt>Oldest waiting</dt><dd>${oldest ? html`<span data-since="${oldest}">${ageText(oldest, now)}</span>` : '—'}</dd></div>
    <div><dt>Delivered in the last minute</dt><dd>${node.perMinute}</dd></div>`
    }
  </dl>
</section>`;
}

/** One line of activity, newest first. Moves carry what the script needs to draw them. */
export function activityItem(item: ActivityItem): Html {
  const move = item.move;
  return html`<li class="fv-activity__item fv-tone--${item.tone}" id="${item.id}"${
    move
      ? html` data-from="${move.from}" data-to="${move.to}" data-outcome="${move.outcome}" data-label="${move.label}"`
      : ''
  }>
  <time datetime="${item.at}">${clockTime(item.at)}</time>
  <span class="fv-activity__text">${item.text}</span>
  ${item.correlationId ? html`<a class="fv-activity__case" href="/cases/${encodeURIComponent(item.correlationId)}">case ${item.correlationId}</a>` : ''}
</li>`;
}

const CATEGORY_COLOUR: Record<string, 'red' | 'orange' | 'yellow' | 'blue' | 'grey'> = {
  CRITICAL: 'red',
  URGENT: 'orange',
  CANCER: 'yellow',
  SIGNIFICANT: 'blue',
};

/** Open alerts by category with their due times and ladder steps; an honest empty state when there are none. */
export function safetyPanel(safety: SafetySummary, now: Date): Html {
  const alerts = safety.alerts;
  return html`<div class="nhsuk-card"><div class="nhsuk-card__content">
<h2 class="nhsuk-card__heading">Safety at a glance</h2>
${
  alerts.length === 0
    ? html`<p><strong>No open result alerts.</strong></p>
<p class="nhsuk-body-s">An alert is open when a report with an alert category (${ALERT_CATEGORIES.filter((c) => c !== 'NONE').join(', ')}) has an
acknowledgement Task (<code>acknowledge-result</code>) that is not yet closed. No region holds one now.</p>`
    : html`<p>${alerts.length} open result ${alerts.length === 1 ? 'alert' : 'alerts'}: ${safety.byCategory.map(
        (c, i) =>
          html`${i ? ', ' : ''}${tag(`${c.count} ${ALERT_CATEGORY_INFO[c.category as keyof typeof ALERT_CATEGORY_INFO]?.display ?? c.category}`, CATEGORY_COLOUR[c.category] ?? 'grey')}`,
      )}</p>
${safety.overdue ? html`<p class="fv-bad"><strong>${safety.overdue} overdue:</strong> the acknowledgement, or once acknowledged the action taken, was due and is not recorded.</p>` : ''}
<table class="nhsuk-table fv-alerts">
  <caption class="nhsuk-table__caption nhsuk-u-visually-hidden">Open result alerts, most urgent first</caption>
  <thead class="nhsuk-table__head"><tr class="nhsuk-table__row">
    <th class="nhsuk-table__header" scope="col">Category</th><th class="nhsuk-table__header" scope="col">Region</th>
    <th class="nhsuk-table__header" scope="col">Due by</th><th class="nhsuk-table__header" scope="col">Where it stands</th>
  </tr></thead>
  <tbody class="nhsuk-table__body">
  ${alerts.map(
    (a) => html`<tr class="nhsuk-table__row">
    <td class="nhsuk-table__cell">${tag(a.category ?? 'unknown', CATEGORY_COLOUR[a.category ?? ''] ?? 'grey')}</td>
    <td class="nhsuk-table__cell">${a.region}</td>
    <td class="nhsuk-table__cell${a.overdue ? ' fv-bad' : ''}">${a.dueAt ? dateTime(a.dueAt) : '—'}${a.overdue ? html` <strong>(overdue ${ageText(a.dueAt as string, now)})</strong>` : ''}</td>
    <td class="nhsuk-table__cell">${a.step ?? a.status}${a.correlationId ? html`<br><a href="/cases/${encodeURIComponent(a.correlationId)}">case ${a.correlationId}</a>` : ''}</td>
  </tr>`,
  )}
  </tbody>
</table>`
}
<h3 class="nhsuk-heading-s">Turnaround breaches</h3>
<p class="nhsuk-body-s">Not shown here yet. The gateways raise them (DM01, reporting TAT, suspected CES MRI, pathway report) as resolve-breach Tasks, read at the imaging provider's gateway.</p>
</div></div>`;
}

/** The demo's buttons; sent again whole when a region stops or starts. */
export function demoControls(demo: Pick<DemoControls, 'about' | 'regions'>): Html {
  const about = demo.about;
  const regions = demo.regions();
  return html`<div class="nhsuk-card fv-controls" id="demo-controls">
  <div class="nhsuk-card__content">
    <h2 class="nhsuk-card__heading">Drive the demo</h2>
    <p class="nhsuk-body-s">On the demo's own topology: the same simulated GP and RIS/PACS the scenario uses.</p>
    <form method="post" action="/demo/orders" class="fv-form" data-action>
      <button class="nhsuk-button nhsuk-button--small" type="submit">Place an order</button>
      <p class="nhsuk-body-s">${about.order}</p>
    </form>
    <form method="post" action="/demo/reports" class="fv-form" data-action>
      <div class="nhsuk-form-group">
        <label class="nhsuk-label" for="category">Alert category of the report</label>
        <select class="nhsuk-select" id="category" name="category">
          ${ALERT_CATEGORIES.map((c) => html`<option value="${c}"${c === 'URGENT' ? ' selected' : ''}>${ALERT_CATEGORY_INFO[c].display}</option>`)}
        </select>
      </div>
      <button class="nhsuk-button nhsuk-button--small nhsuk-button--secondary" type="submit">Issue a report</button>
      <p class="nhsuk-body-s">${about.report}</p>
    </form>
    <h3 class="nhsuk-heading-s">Regions</h3>
    <ul class="nhsuk-list fv-region-controls">
      ${regions.map(
        (r) => html`<li><form method="post" action="/demo/regions/${r.id}/${r.running ? 'stop' : 'start'}" data-action>
        <button class="nhsuk-button nhsuk-button--small ${r.running ? 'nhsuk-button--warning' : 'nhsuk-button--secondary'}" type="submit">${r.running ? `Take ${r.id} down` : `Bring ${r.id} back`}</button>
      </form></li>`,
      )}
    </ul>
  </div>
</div>`;
}

function findCase(): Html {
  return html`<div class="nhsuk-card">
  <div class="nhsuk-card__content">
    <h2 class="nhsuk-card__heading">Follow one order</h2>
    <form method="get" action="/cases">
      <div class="nhsuk-form-group">
        <label class="nhsuk-label" for="correlation-id">Case (its X-Correlation-ID)</label>
        <div class="nhsuk-hint" id="correlation-id-hint">For example case-N81001-123456-1. You need a token to see it.</div>
        <input class="nhsuk-input" id="correlation-id" name="correlation-id" type="text" spellcheck="false" autocomplete="off" aria-describedby="correlation-id-hint">
      </div>
      <button class="nhsuk-button nhsuk-button--small nhsuk-button--secondary" type="submit">Show its story</button>
    </form>
  </div>
</div>`;
}

function glossary(): Html {
  return html`<details class="nhsuk-details">
  <summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">What the words on this page mean</span></summary>
  <div class="nhsuk-details__text">
    <dl class="fv-glossary">
      <dt>Gateway</dt><dd>The front door of one region's imaging network: GP systems and RIS/PACS talk only to their own region's gateway.</dd>
      <dt>National hub</dt><dd>The directory, the token service and the router: every message between regions passes through it, and it keeps an audit trail.</dd>
      <dt>Waiting to send</dt><dd>Messages a gateway has stored and not yet delivered, for example because the other region is down. They are kept until delivered, never lost.</dd>
      <dt>Hop time</dt><dd>From the moment the sending gateway stored a message to the moment the receiving region had it.</dd>
      <dt>Case</dt><dd>One order's whole story, across every region, found by its correlation id (the X-Correlation-ID every message carries).</dd>
    </dl>
  </div>
</details>`;
}
