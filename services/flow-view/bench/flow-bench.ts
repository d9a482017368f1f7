// The flow view's numbers: how long an event takes to appear on the page, and what the page weighs.
//   node services/flow-view/bench/flow-bench.ts [--orders 10]
// Starts the real demo (--explore) on free ports, opens the view in headless Chromium, places orders and
// issues reports with the view's own buttons (POST /demo/…), and writes reports/flow-view/bench.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromium } from '@imaging/browser';
import { startDemoRun } from '../src/testing/demo-run.ts';

const { values } = parseArgs({ options: { orders: { type: 'string', default: '10' } } });
const orders = Number(values.orders);
const REPORTS = join(import.meta.dirname, '../../../reports/flow-view');

interface Seen {
  kind: 'move' | 'status';
  /** From the event's own time (the gateway's store, same machine) to the line being on the page. */
  latencyMs: number;
}

const stats = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { n: sorted.length, median: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? 0 };
};

const run = await startDemoRun();
const browser = await launchChromium();
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const weights: { url: string; transferred: number; decoded: number; type: string }[] = [];
  page.on('response', async (response) => {
    const url = new URL(response.url());
    if (url.pathname === '/live') return;
    const sizes = await response.request().sizes();
    const body = await response.body().catch(() => Buffer.alloc(0));
    weights.push({
      url: url.pathname,
      transferred: sizes.responseBodySize + sizes.responseHeadersSize,
      decoded: body.length,
      type: response.headers()['content-type'] ?? '',
    });
  });
  await page.goto(run.viewUrl);
  await page.waitForFunction("document.body.dataset.live === 'connected'");
  // Each line the script adds is timed against the event time it carries (<time datetime>). In the page, as
  // source: this program is type-checked for Node, not the DOM.
  await page.evaluate(`
    window.seen = [];
    new MutationObserver((records) => {
      const now = Date.now();
      for (const record of records)
        for (const node of record.addedNodes) {
          if (!(node instanceof HTMLLIElement)) continue;
          const at = node.querySelector('time')?.getAttribute('datetime');
          const isStatus = /the order is now/.test(node.textContent ?? '');
          if (!at || !(node.dataset.outcome || isStatus)) continue;
          window.seen.push({ kind: node.dataset.outcome ? 'move' : 'status', latencyMs: now - Date.parse(at) });
        }
    }).observe(document.getElementById('activity'), { childList: true });
  `);

  const press = async (path: string, body = '') => {
    const res = await fetch(new URL(path, run.viewUrl), {
      method: 'POST',
      headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
      body,
    });
    return (await res.json()) as { ok: boolean; text: string };
  };
  for (let i = 0; i < orders; i++) {
    const placed = await press('/demo/orders');
    if (!placed.ok) throw new Error(placed.text);
    // The RIS can only report an order that has reached it.
    for (let tries = 0; ; tries++) {
      const reported = await press('/demo/reports', 'category=URGENT');
      if (reported.ok) break;
      if (tries > 50) throw new Error(reported.text);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const seen = (await page.evaluate('window.seen')) as Seen[];

  const first = weights.filter((w) => w.url === '/' || w.url.startsWith('/assets/'));
  const total = (field: 'transferred' | 'decoded') => first.reduce((sum, w) => sum + w[field], 0);
  const result = {
    when: new Date().toISOString(),
    orders,
    latency: {
      moves: stats(seen.filter((s) => s.kind === 'move').map((s) => s.latencyMs)),
      statusChanges: stats(seen.filter((s) => s.kind === 'status').map((s) => s.latencyMs)),
    },
    weight: {
      files: first.map(({ url, transferred, decoded }) => ({ url, transferred, decoded })),
      transferredBytes: total('transferred'),
      decodedBytes: total('decoded'),
    },
  };
  mkdirSync(REPORTS, { recursive: true });
  writeFileSync(join(REPORTS, 'bench.json'), `${JSON.stringify(result, null, 2)}\n`);
  const { moves, statusChanges } = result.latency;
  process.stdout.write(
    [
      `flow view, ${orders} orders and reports on the demo topology (${run.viewUrl})`,
      `  event → on the page, messages moved: median ${moves.median} ms, p95 ${moves.p95} ms, max ${moves.max} ms (n=${moves.n})`,
      `  event → on the page, status changes: median ${statusChanges.median} ms, p95 ${statusChanges.p95} ms, max ${statusChanges.max} ms (n=${statusChanges.n})`,
      `  page weight (HTML+CSS+JS, first load): ${result.weight.transferredBytes} bytes transferred, ${result.weight.decodedBytes} bytes decoded`,
      ...result.weight.files.map(
        (f) =>
          `    ${f.url.padEnd(36)} ${String(f.transferred).padStart(8)} sent ${String(f.decoded).padStart(8)} decoded`,
      ),
      `  written to reports/flow-view/bench.json`,
      '',
    ].join('\n'),
  );
} finally {
  await browser.close();
  await run.stop();
}
