import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '@imaging/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from './evaluate.ts';
import { parseHazardLog } from './hazard-log.ts';
import { nhsukStylesheet, renderHtml } from './report-html.ts';
import { readVitestJson } from './vitest-results.ts';

/**
 * The report is a page people open, so it is checked in a browser: Debian's Chromium (installed by
 * infra/browser/ensure-chromium.sh), driven by playwright-core, and axe-core at WCAG 2.2 AA.
 */
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Two hazards: one proven, one red with a failed test whose message and title carry markup. */
const log = parseHazardLog(`system: imaging-connect
hazards:
  - id: HAZ-001
    title: A result never reaches the referrer
    causes: [The other region is down, A replica crashes]
    effect: The report is not read
    harm: Delayed treatment
    initial: { severity: major, likelihood: medium, risk: 3 }
    controls:
      - description: Delivery is retried until it lands
        tests:
          - { file: services/x/src/a.test.ts, name: "delivery > retries" }
    residual: { severity: major, likelihood: very low, risk: 2 }
  - id: HAZ-002
    title: "An alert is never acknowledged <img src=x onerror=\\"document.title='pwned'\\">"
    causes: [Nobody reads it]
    effect: The finding waits
    harm: Delayed treatment
    initial: { severity: major, likelihood: high, risk: 4 }
    controls:
      - description: The ladder climbs
        tests:
          - { file: services/x/src/a.test.ts, name: "ladder > climbs" }
          - { file: services/x/src/a.test.ts, name: "ladder > renamed away" }
    residual: { severity: major, likelihood: low, risk: 3 }
    notes: Relies on a fail-safe officer
`);
const results = {
  testResults: [
    {
      name: '/repo/services/x/src/a.test.ts',
      status: 'failed',
      assertionResults: [
        { ancestorTitles: ['delivery'], title: 'retries', status: 'passed' },
        {
          ancestorTitles: ['ladder'],
          title: 'climbs',
          status: 'failed',
          failureMessages: ['AssertionError: expected <b>delegate</b>, got requester'],
        },
      ],
    },
  ],
};

let browser: Browser;
let page: Page;
let dir: string;
const requested: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  const safetyCase = evaluate(log, readVitestJson(results, '/repo'), () => true, new Date('2026-11-23T09:00:00Z'));
  browser = await launchChromium();
  dir = mkdtempSync(join(tmpdir(), 'safety-report-'));
  const file = join(dir, 'index.html');
  writeFileSync(file, renderHtml(safetyCase, nhsukStylesheet()));
  page = await browser.newPage();
  page.on('request', (r) => requested.push(r.url()));
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  await page.goto(pathToFileURL(file).href);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the safety case report in a browser', () => {
  it('has no WCAG 2.2 A or AA violation (axe-core)', async () => {
    await page.addScriptTag({ content: AXE });
    const violations = await page.evaluate(async () => {
      const axe = (globalThis as unknown as { axe: { run(o: unknown): Promise<{ violations: unknown[] }> } }).axe;
      const result = await axe.run({
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
      });
      return result.violations;
    });
    expect(violations).toEqual([]);
  });

  it('opens as one self-contained file, styled by NHS.UK frontend: no other request, no console error', async () => {
    expect(requested).toHaveLength(1);
    expect(requested[0]).toMatch(/^file:.*index\.html$/);
    expect(consoleErrors).toEqual([]);
    // NHS.UK frontend's stylesheet is in force: its tag has a border, which a browser's defaults give none.
    const tag = page.locator('#HAZ-001 h2 .nhsuk-tag');
    expect(await tag.evaluate((e) => e.ownerDocument.defaultView?.getComputedStyle(e).borderTopStyle)).toBe('solid');
  });

  it('says at the top that not every control is proven, and shows the red hazard with its reasons', async () => {
    expect(await page.title()).toContain('NOT PROVEN');
    // biome-ignore lint/performance/useDomNodeTextContent: the test checks the text the page shows
    expect(await page.locator('#verdict').innerText()).toContain('1 of 2 hazards green; 1 of 3 named tests passed');
    const red = page.locator('#HAZ-002');
    expect(await red.getAttribute('data-verdict')).toBe('red');
    // biome-ignore lint/performance/useDomNodeTextContent: the test checks the text the page shows
    const text = await red.innerText();
    expect(text).toContain('“ladder > climbs” failed: AssertionError: expected <b>delegate</b>, got requester');
    expect(text).toContain('“ladder > renamed away” was not found in the results');
    expect(await page.locator('#HAZ-001').getAttribute('data-verdict')).toBe('green');
  });

  it('shows what the log and the tests say as text, never as markup', async () => {
    // biome-ignore lint/performance/useDomNodeTextContent: the test checks the text the page shows
    expect(await page.locator('#HAZ-002 h2').innerText()).toContain('<img src=x onerror=');
    expect(await page.locator('main img, main b').count()).toBe(0);
    expect(await page.title()).not.toBe('pwned');
  });
});
