import { escapeHtml } from '@imaging/html';
import type { Exchange, RecordedMessage } from '../record/exchange.ts';
import type { Outcome, ReportGroup, ReportModel, ReportTest } from './model.ts';
import { runPassed } from './model.ts';

/** Text for HTML: everything a server or a test said is data, never markup. */
export { escapeHtml };

const esc = escapeHtml;

const LABEL: Record<Outcome, string> = { passed: 'pass', deviation: 'deviation', failed: 'fail', skipped: 'skip' };

const CSS = `
:root{--pass:#1a7f37;--fail:#cf222e;--skip:#6e7781;--dev:#9a6700;--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328}
header{padding:16px 24px;border-bottom:1px solid var(--line);background:var(--bg)}
h1{font-size:20px;margin:0 0 6px}h2{font-size:16px;margin:24px 0 8px}
main{padding:0 24px 32px}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}dt{color:#59636e}dd{margin:0}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:600}
.verdict.ok{background:var(--pass)}.verdict.bad{background:var(--fail)}
.badge{display:inline-block;min-width:68px;text-align:center;padding:0 6px;border-radius:10px;font-size:12px;font-weight:600;color:#fff;margin-right:8px}
.passed{background:var(--pass)}.failed{background:var(--fail)}.skipped{background:var(--skip)}.deviation{background:var(--dev)}
.counts span{margin-right:14px}
details.test{border:1px solid var(--line);border-radius:6px;margin:4px 0;background:#fff}
details.test>summary{padding:6px 10px;cursor:pointer;list-style:none}details.test>summary::-webkit-details-marker{display:none}
details.test[open]>summary{border-bottom:1px solid var(--line);background:var(--bg)}
.path{color:#59636e}.ms{color:#59636e;float:right;font-size:12px}
.body{padding:8px 12px}.reason{white-space:pre-wrap;background:#fff8f8;border-left:3px solid var(--fail);padding:6px 10px;margin:4px 0}
.reason.deviation{background:#fff8e6;border-color:var(--dev)}.reason.skipped{background:var(--bg);border-color:var(--skip)}
pre{white-space:pre-wrap;word-break:break-all;background:var(--bg);border:1px solid var(--line);border-radius:4px;padding:6px 8px;margin:4px 0;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;max-height:360px;overflow:auto}
details.x{margin:4px 0}details.x>summary{cursor:pointer;font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
.st2{color:var(--pass)}.st4,.st5,.sterr{color:var(--fail)}.st3{color:var(--dev)}
.muted{color:#59636e}table.dev{border-collapse:collapse}table.dev td{border:1px solid var(--line);padding:4px 8px;vertical-align:top}
`;

export function renderHtml(model: ReportModel): string {
  const ok = runPassed(model);
  const t = model.totals;
  const deviations = [
    ...new Map(
      model.groups
        .flatMap((g) => g.tests)
        .filter((x) => x.outcome === 'deviation' && x.deviation)
        .map((x) => [x.deviation?.key, x.deviation]),
    ).values(),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(model.title)}: ${ok ? 'passed' : 'FAILED'}</title><style>${CSS}</style></head>
<body><header>
<h1>${esc(model.title)} <span class="verdict ${ok ? 'ok' : 'bad'}">${ok ? 'PASSED' : 'FAILED'}</span></h1>
<div class="counts"><span>${t.total} tests</span><span><span class="badge passed">pass</span>${t.passed}</span><span><span class="badge deviation">deviation</span>${t.deviation}</span><span><span class="badge failed">fail</span>${t.failed}</span><span><span class="badge skipped">skip</span>${t.skipped}</span></div>
<dl>
<dt>started</dt><dd>${esc(model.startedAt)} (took ${(model.durationMs / 1000).toFixed(1)} s)</dd>
${model.target ? targetRows(model) : ''}
${model.actorTarget ? `<dt>actor tests against</dt><dd>${esc(model.actorTarget)}</dd>` : ''}
</dl>
</header><main>
${model.unhandledErrors.length ? `<h2>Errors outside the tests</h2>${model.unhandledErrors.map((e) => `<pre class="reason">${esc(e)}</pre>`).join('')}` : ''}
${deviations.length ? `<h2>Recorded deviations met</h2><table class="dev">${deviations.map((d) => `<tr><td><code>${esc(d?.key ?? '')}</code></td><td>${esc(d?.description ?? '')}</td></tr>`).join('')}</table>` : ''}
${model.groups.map(renderGroup).join('\n')}
</main></body></html>
`;
}

function targetRows(model: ReportModel): string {
  const target = model.target;
  if (!target) return '';
  const how =
    target.how === 'given'
      ? 'given (--target)'
      : target.how === 'container'
        ? 'started in a container (testcontainers)'
        : 'started from the launcher jar';
  return `<dt>FHIR server</dt><dd>${esc(target.software)} at <code>${esc(target.base)}</code></dd>
<dt>how</dt><dd>${esc(how)}: ${esc(target.detail)}</dd>
${target.database ? `<dt>database</dt><dd>${esc(target.database.description)}</dd>` : ''}
${target.startupMs === undefined ? '' : `<dt>start-up</dt><dd>${(target.startupMs / 1000).toFixed(1)} s to the first 200 on /fhir/metadata</dd>`}`;
}

function renderGroup(group: ReportGroup): string {
  const counts = (o: Outcome) => group.tests.filter((x) => x.outcome === o).length;
  const summary = (['passed', 'deviation', 'failed', 'skipped'] as const)
    .filter((o) => counts(o) > 0)
    .map((o) => `${counts(o)} ${LABEL[o]}`)
    .join(', ');
  return `<section id="${esc(group.key)}"><h2>${esc(group.title)} <span class="muted">(${group.tests.length} tests${summary ? `: ${esc(summary)}` : ''})</span></h2>
${group.errors.map((e) => `<pre class="reason">${esc(e)}</pre>`).join('')}
${group.tests.map(renderTest).join('\n')}
${group.setupExchanges.length ? `<details class="x"><summary>${group.setupExchanges.length} exchanges outside any test (setting up test data)</summary>${group.setupExchanges.map((x) => renderExchange(x)).join('')}</details>` : ''}
</section>`;
}

function renderTest(test: ReportTest): string {
  const path = test.path.length ? `<span class="path">${esc(test.path.join(' › '))} › </span>` : '';
  const reason = test.reason ? `<div class="reason ${test.outcome}">${esc(test.reason)}</div>` : '';
  const notes = test.notes.length ? `<ul>${test.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
  // A failed test shows its last exchange open: usually the request that failed.
  const lastOpen = (x: Exchange, i: number) =>
    renderExchange(x, test.outcome === 'failed' && i === test.exchanges.length - 1);
  const exchanges = test.exchanges.length
    ? `<div class="muted">${test.exchanges.length} HTTP exchange${test.exchanges.length === 1 ? '' : 's'}:</div>${test.exchanges.map(lastOpen).join('')}`
    : '<div class="muted">no HTTP exchanges recorded</div>';
  return `<details class="test"${test.outcome === 'failed' ? ' open' : ''}><summary><span class="badge ${test.outcome}">${LABEL[test.outcome]}</span>${path}${esc(test.name)}<span class="ms">${Math.round(test.durationMs)} ms</span></summary>
<div class="body">${reason}${notes}${exchanges}</div></details>`;
}

function renderExchange(x: Exchange, open = false): string {
  const status = x.response ? String(x.response.status) : 'no answer';
  const cls = x.response ? `st${String(x.response.status)[0]}` : 'sterr';
  return `<details class="x"${open ? ' open' : ''}><summary>${esc(x.label)}: ${esc(x.request.method)} ${esc(x.request.url)} → <b class="${cls}">${esc(status)}</b> <span class="muted">(${Math.round(x.durationMs)} ms)</span></summary>
<div class="muted">request</div>${message(x.request, `${x.request.method} ${x.request.url}`)}
${x.response ? `<div class="muted">response</div>${message(x.response, `HTTP ${x.response.status}`)}` : `<pre class="reason">${esc(x.error ?? 'no answer')}</pre>`}
</details>`;
}

function message(m: RecordedMessage, firstLine: string): string {
  const headers = Object.entries(m.headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  const body = m.body === undefined ? '' : `\n\n${prettyJson(m.body)}${m.truncated ? '\n… (cut)' : ''}`;
  return `<pre>${esc(`${firstLine}\n${headers}${body}`)}</pre>`;
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
