import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { devTokenSource } from '@imaging/auth';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '@imaging/browser';
import type { DemoRun } from './testing/demo-run.ts';
import { startDemoRun } from './testing/demo-run.ts';

/**
 * The flow view as its audience sees it: the real demo (`--explore`: the hub and three gateways as processes,
 * real tokens, the reference scenario, then the view with its buttons) on free ports in a temporary data dir,
 * in Debian's Chromium driven by playwright-core, checked with axe-core at WCAG 2.x AA. Screenshots go to
 * reports/flow-view/ (git-ignored).
 */
const REPORTS = join(import.meta.dirname, '../../../reports/flow-view');
/** Things that travel between processes, and a region coming back, show well within this. */
const SHOWS_WITHIN = 20_000;

let run: DemoRun;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
const foreignRequests: string[] = [];

async function checkAccessibility(what: string): Promise<void> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .analyze();
  const found = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  expect(found, `axe-core found WCAG AA violations on ${what}`).toEqual([]);
}

/** The activity line of a case that says this. */
const activity = (correlationId: string, text: RegExp) =>
  page
    .locator('#activity li', { hasText: `case ${correlationId}` })
    .filter({ hasText: text })
    .first();

/** Presses a demo button; the case it was about, from the notice that says it was done. */
async function press(button: string, done: RegExp): Promise<string> {
  await page.getByRole('button', { name: button }).click();
  await expect.poll(() => page.locator('#notice').textContent(), { timeout: SHOWS_WITHIN }).toMatch(done);
  const link = page.locator('#notice a');
  if ((await link.count()) === 0) return '';
  return decodeURIComponent((await link.getAttribute('href'))?.replace(/^\/cases\//, '') ?? '');
}

const shows = (locator: ReturnType<typeof activity>) =>
  expect.poll(() => locator.isVisible(), { timeout: SHOWS_WITHIN }).toBe(true);

let delayedCase = '';

beforeAll(async () => {
  run = await startDemoRun();
  browser = await launchChromium();
  // A context of its own: axe-core opens a page beside the one it checks.
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('request', (r) => {
    if (!r.url().startsWith(new URL(run.viewUrl).origin)) foreignRequests.push(r.url());
  });
  mkdirSync(REPORTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await run?.stop();
});

describe('the flow view in a browser, on the running demo', { timeout: 120_000 }, () => {
  it('shows the hub and every region up, loads nothing from elsewhere, and passes axe at WCAG AA', async () => {
    await page.goto(run.viewUrl);
    await expect
      .poll(() => page.locator('body').getAttribute('data-live'), { timeout: SHOWS_WITHIN })
      .toBe('connected');
    for (const node of ['hub', 'north', 'midlands', 'south'])
      await expect
        .poll(() => page.locator(`#node-${node} .nhsuk-tag`).textContent(), { timeout: SHOWS_WITHIN })
        .toMatch(/Up/);
    expect(await page.locator('#map-lines line').count()).toBe(3);
    await checkAccessibility('the overview');
    expect(foreignRequests).toEqual([]);
  });

  it('places an order with the button and shows it cross from the north to the midlands', async () => {
    const placed = await press('Place an order', /Order N81001-\d+-101 placed/);
    await shows(activity(placed, /Order north → midlands delivered in/));
    expect(await page.locator('#announcer').textContent()).toMatch(/Order north → midlands delivered/);
    const reported = await press('Issue a report', /RM1 reported order N81001-\d+-101/);
    expect(reported).toBe(placed);
    await shows(activity(placed, /Report midlands → north delivered in/));
  });

  it('takes the midlands down: the north’s queue grows; brings it back: the queue drains, delivered once', async () => {
    await press('Take midlands down', /midlands gateway was stopped/);
    await expect
      .poll(() => page.locator('#node-midlands .nhsuk-tag').textContent(), { timeout: SHOWS_WITHIN })
      .toMatch(/Down/);
    await page.getByRole('button', { name: 'Bring midlands back' }).waitFor({ timeout: SHOWS_WITHIN });
    delayedCase = await press('Place an order', /Order N81001-\d+-102 placed/);
    const waiting = page.locator('#node-north dd').first();
    await expect.poll(() => waiting.textContent(), { timeout: SHOWS_WITHIN }).toBe('1');
    await shows(activity(delayedCase, /Order north → midlands waiting: attempt \d+ failed: 503/));
    await page.screenshot({ path: join(REPORTS, 'overview-region-down.png'), fullPage: true });

    await press('Bring midlands back', /midlands gateway is back/);
    await expect
      .poll(() => page.locator('#node-midlands .nhsuk-tag').textContent(), { timeout: SHOWS_WITHIN })
      .toMatch(/Up/);
    await expect.poll(() => waiting.textContent(), { timeout: SHOWS_WITHIN }).toBe('0');
    await shows(activity(delayedCase, /Order north → midlands delivered in .* \(\d+ attempts\)/));
    await page.screenshot({ path: join(REPORTS, 'overview.png'), fullPage: true });
    // The one the README shows: what a newcomer sees first, at a laptop's size.
    await page.setViewportSize({ width: 1120, height: 850 });
    await page.evaluate("document.body.style.zoom = '0.8'; window.scrollTo(0, 0)");
    await page.evaluate('new Promise((resolve) => setTimeout(resolve, 2500))'); // the dots have landed
    await page.screenshot({ path: join(REPORTS, 'readme.png') });
    await page.evaluate("document.body.style.zoom = ''");
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(consoleErrors).toEqual([]);
  });

  it('opens the order’s case after signing in, with every hop, and passes axe at WCAG AA', async () => {
    const href = `/cases/${delayedCase}`;
    await activity(delayedCase, /delivered in/)
      .locator('a')
      .click();
    await page.waitForURL((url) => url.pathname === '/login');
    const tokens = await devTokenSource('flow-view', { hubUrl: run.hubUrl, dataDir: run.dataDir });
    await page.getByLabel('Access token').fill(await tokens.getToken());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === href);
    const story = page.locator('table.fv-lanes');
    for (const hop of [
      /Places order N81001-\d+-\d+/,
      /Queues the order for midlands/,
      /Hub routes the order north → midlands: not delivered/,
      /Could not deliver the order to midlands .*: will retry/,
      /Order N81001-\d+-\d+ received from north and stored/,
      /Hub routes the order north → midlands: delivered/,
      /Delivered the order to midlands at attempt \d+/,
    ])
      await story.getByText(hop).first().waitFor({ timeout: 1000 });
    await checkAccessibility('the case view');
    await page.screenshot({ path: join(REPORTS, 'case.png'), fullPage: true });

    await story
      .getByRole('link', { name: /View the stored ServiceRequest v1/ })
      .first()
      .click();
    expect(await page.locator('pre.fv-json').textContent()).toContain('"resourceType": "ServiceRequest"');
    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });
});
