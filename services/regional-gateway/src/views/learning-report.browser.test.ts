import type { AddressInfo } from 'node:net';
import { AxeBuilder } from '@axe-core/playwright';
import { serve } from '@hono/node-server';
import { launchChromium } from '@imaging/browser';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GP_TOKEN, testGateway } from '../testing/app.ts';
import { learningQuarter } from '../testing/learning.ts';

/**
 * The learning report's page as a reviewer opens it: the gateway over a real socket, a real signed token
 * with the scope `report/learning`, Debian's Chromium driven by playwright-core, axe-core at WCAG 2.2 AA.
 */
let browser: Browser;
let page: Page;
let close: () => void;
let origin: string;
const requested: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  const { regions } = await learningQuarter();
  const gateway = await testGateway(regions.north);
  const server = serve({ fetch: gateway.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => server.close();
  const token = await gateway.token({ ...GP_TOKEN, scope: ['report/learning'] });
  browser = await launchChromium();
  // A context of its own: axe-core opens a page beside the one it checks.
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    extraHTTPHeaders: { Authorization: `Bearer ${token}` },
  });
  page = await context.newPage();
  page.on('request', (r) => requested.push(r.url()));
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  const res = await page.goto(`${origin}/fhir/$learning-report?organization=N81001&quarter=2026-Q3`);
  expect(res?.status()).toBe(200);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  close?.();
});

// biome-ignore lint/performance/useDomNodeTextContent: the test checks the text the page shows
const text = (selector: string) => page.locator(selector).innerText();

describe('the learning report page in a browser', { timeout: 60_000 }, () => {
  it('has no WCAG 2.2 A or AA violation (axe-core)', async () => {
    const results = await new AxeBuilder({ page })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
      .analyze();
    const found = results.violations.map(
      (v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    );
    expect(found).toEqual([]);
  });

  it('is styled by NHS.UK frontend, with nothing fetched but the page and no console error', async () => {
    expect(requested).toEqual([`${origin}/fhir/$learning-report?organization=N81001&quarter=2026-Q3`]);
    expect(consoleErrors).toEqual([]);
    // The design system's header is blue; a browser's defaults give a header no background.
    const header = page.locator('header.nhsuk-header');
    expect(await header.evaluate((e) => e.ownerDocument.defaultView?.getComputedStyle(e).backgroundColor)).toBe(
      'rgb(0, 94, 184)',
    );
  });

  it('shows the quarter’s figures', async () => {
    expect(await page.title()).toBe('Learning report: N81001, July to September 2026 (2026-Q3) – imaging-connect');
    expect(await text('#figure-delayed-reports')).toBe('1');
    expect(await text('#figure-acknowledgements-due')).toBe('3');
    expect(await text('#figure-acknowledgements-on-time')).toBe('1');
    expect(await text('#figure-acknowledgements-late')).toBe('1');
    expect(await text('#figure-acknowledgements-missed')).toBe('1');
    expect(await text('#figure-fail-safe')).toBe('1');
    expect(await text('#figure-dids-cases')).toBe('4');
    const delayed = await text('#delayed-reports tbody');
    expect(delayed).toContain('case-3');
    expect(delayed).toContain('\t47 h\t');
    const acks = await page.locator('#acknowledgements tbody tr').allInnerTexts();
    expect(acks.map((row) => row.split('\t')[0])).toEqual(['case-2', 'case-1']);
    expect(acks[1]).toContain('4 h');
    const targets = await page.locator('#turnaround tbody tr').allInnerTexts();
    expect(targets.map((row) => row.split('\t'))).toEqual([
      [expect.stringContaining('DM01'), '42 d', '5', '4', '1', '0', '80%'],
      ['Report issued by its due time (Urgent)', '2 d', '2', '1', '1', '0', '50%'],
      [expect.stringContaining('Reporting turnaround'), '28 d', '4', '4', '0', '0', '100%'],
    ]);
    expect(await text('#source-settings tbody')).toContain('GP direct access\t4\t1 h / 1 h (4)\t1 h / 3 d 23 h (4)');
  });
});
