import { escapeHtml, nhsukStylesheet } from '@imaging/html';
import type { ControlResult, HazardResult, SafetyCase, TestEvidence } from './evaluate.ts';
import { evidenceText } from './evaluate.ts';
import type { RiskAssessment } from './hazard-log.ts';
import type { RiskClass } from './risk.ts';
import { LIKELIHOODS, RISK_MEANING, riskClass, SEVERITIES } from './risk.ts';

export { nhsukStylesheet };

/** Text for HTML: everything the log or a test says is data, never markup. */
const esc = escapeHtml;

const TAG: Record<TestEvidence['evidence'] | HazardResult['verdict'], [colour: string, text: string]> = {
  green: ['green', 'Controls proven'],
  red: ['red', 'Not proven'],
  passed: ['green', 'Passed'],
  failed: ['red', 'Failed'],
  skipped: ['red', 'Did not run'],
  'missing-file': ['red', 'No such file'],
  'missing-test': ['red', 'Not found'],
};

const tag = (key: keyof typeof TAG) => `<strong class="nhsuk-tag nhsuk-tag--${TAG[key][0]}">${TAG[key][1]}</strong>`;

const risk = (r: RiskAssessment) => `${r.risk} (${r.severity} × ${r.likelihood})`;

/** The safety case as a page: the verdict, a summary, each hazard with its controls and their tests, the matrix. */
export function renderHtml(safetyCase: SafetyCase, stylesheet: string): string {
  const green = safetyCase.verdict === 'green';
  const t = safetyCase.totals;
  return `<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Clinical safety case: ${esc(safetyCase.system)}: ${green ? 'every control proven' : 'NOT PROVEN'}</title>
<style>${stylesheet}</style></head>
<body><div class="nhsuk-width-container"><main class="nhsuk-main-wrapper" id="maincontent">
<span class="nhsuk-caption-l">${esc(safetyCase.system)} · DCB0129</span>
<h1>Clinical safety case</h1>
<div class="nhsuk-card nhsuk-card--${green ? 'feature' : 'warning'}" id="verdict"><div class="nhsuk-card__content">
<h2 class="nhsuk-card__heading">${green ? 'Every control is proven by its tests' : 'Not every control is proven'}</h2>
<p class="nhsuk-card__description">${t.green} of ${t.hazards} hazards green; ${t.testsPassed} of ${t.tests} named tests passed. Generated ${esc(safetyCase.generatedAt)}.</p>
</div></div>
<h2>Hazards</h2>
${summaryTable(safetyCase.hazards)}
${safetyCase.hazards.map(hazardSection).join('\n')}
<h2 id="matrix">The risk matrix</h2>
${matrixTable()}
</main></div></body></html>
`;
}

function summaryTable(hazards: HazardResult[]): string {
  const rows = hazards
    .map(
      (
        h,
      ) => `<tr class="nhsuk-table__row"><td class="nhsuk-table__cell nhsuk-u-nowrap"><a href="#${h.id}">${h.id}</a></td>
<td class="nhsuk-table__cell">${esc(h.title)}</td><td class="nhsuk-table__cell">${risk(h.initial)}</td>
<td class="nhsuk-table__cell">${risk(h.residual)}</td><td class="nhsuk-table__cell">${tag(h.verdict)}</td></tr>`,
    )
    .join('\n');
  return `<table class="nhsuk-table" id="summary"><caption class="nhsuk-table__caption">Hazards, their risk before and after their controls, and whether the controls are proven</caption>
<thead class="nhsuk-table__head"><tr class="nhsuk-table__row"><th scope="col" class="nhsuk-table__header">Hazard</th><th scope="col" class="nhsuk-table__header">Title</th><th scope="col" class="nhsuk-table__header">Initial risk</th><th scope="col" class="nhsuk-table__header">Residual risk</th><th scope="col" class="nhsuk-table__header">Status</th></tr></thead>
<tbody class="nhsuk-table__body">${rows}</tbody></table>`;
}

function hazardSection(h: HazardResult): string {
  const row = (key: string, value: string) =>
    `<div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">${key}</dt><dd class="nhsuk-summary-list__value">${value}</dd></div>`;
  return `<section class="hazard" id="${h.id}" data-verdict="${h.verdict}">
<h2>${h.id}: ${esc(h.title)} ${tag(h.verdict)}</h2>
${h.reasons.length ? `<div class="nhsuk-warning-callout"><h3 class="nhsuk-warning-callout__label">Why it is red</h3><ul>${h.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul></div>` : ''}
<dl class="nhsuk-summary-list">
${row('Causes', `<ul class="nhsuk-list nhsuk-list--bullet">${h.causes.map((c) => `<li>${esc(c)}</li>`).join('')}</ul>`)}
${row('Effect', esc(h.effect))}
${row('Harm', esc(h.harm))}
${row('Initial risk', risk(h.initial))}
${row('Residual risk', `${risk(h.residual)}: ${esc(RISK_MEANING[h.residual.risk as RiskClass])}`)}
${h.notes ? row('Notes', esc(h.notes)) : ''}
</dl>
<h3>Controls</h3>
<ol class="nhsuk-list nhsuk-list--number">${h.controls.map(controlItem).join('\n')}</ol>
</section>`;
}

function controlItem(control: ControlResult): string {
  const tests = control.tests
    .map(
      (t) =>
        `<li class="test" data-evidence="${t.evidence}">${tag(t.evidence)} <code>${esc(t.file)}</code>: ${esc(t.name)}${
          t.evidence === 'passed' ? '' : `<br><span class="nhsuk-body-s">${esc(evidenceText(t))}</span>`
        }</li>`,
    )
    .join('');
  return `<li class="control"><p>${esc(control.description)}</p><ul class="nhsuk-list">${tests}</ul></li>`;
}

function matrixTable(): string {
  const head = SEVERITIES.map((s) => `<th scope="col" class="nhsuk-table__header">${s}</th>`).join('');
  const rows = [...LIKELIHOODS]
    .reverse()
    .map(
      (l) =>
        `<tr class="nhsuk-table__row"><th scope="row" class="nhsuk-table__header">${l}</th>${SEVERITIES.map(
          (s) => `<td class="nhsuk-table__cell">${riskClass(s, l)}</td>`,
        ).join('')}</tr>`,
    )
    .join('');
  const meaning = ([1, 2, 3, 4, 5] as const).map((c) => `<li>${c}: ${esc(RISK_MEANING[c])}</li>`).join('');
  return `<table class="nhsuk-table"><caption class="nhsuk-table__caption">Risk class by likelihood (rows) and severity (columns)</caption>
<thead class="nhsuk-table__head"><tr class="nhsuk-table__row"><td class="nhsuk-table__header"></td>${head}</tr></thead>
<tbody class="nhsuk-table__body">${rows}</tbody></table>
<ul class="nhsuk-list">${meaning}</ul>`;
}
