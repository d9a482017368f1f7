import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '@imaging/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, model, test } from './fixtures.ts';
import { renderHtml } from './html.ts';

/**
 * The HTML report is a page people open in a browser, so it is checked in one: Debian's Chromium
 * (installed by infra/browser/ensure-chromium.sh), driven by playwright-core.
 */

let browser: Browser;
let page: Page;
let dir: string;
const requested: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  dir = mkdtempSync(join(tmpdir(), 'report-'));
  const file = join(dir, 'report.html');
  writeFileSync(
    file,
    renderHtml(
      model([
        test({ name: 'conditional create matches the existing resource' }),
        test({
          name: 'a stale If-Match is refused',
          outcome: 'failed',
          reason: 'expected 412, got 200',
          exchanges: [
            exchange({
              request: {
                method: 'PUT',
                url: 'http://127.0.0.1:8080/fhir/conformance/Task/7',
                headers: { 'if-match': 'W/"1"' },
                body: '{"resourceType":"Task"}',
              },
              response: {
                status: 200,
                headers: {},
                body: '{"resourceType":"Task","note":[{"text":"<img src=x onerror=\\"document.title=\'pwned\'\\">"}]}',
              },
            }),
          ],
        }),
      ]),
    ),
  );
  page = await browser.newPage();
  page.on('request', (r) => requested.push(r.url()));
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  await page.goto(pathToFileURL(file).href);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the HTML report in a browser', () => {
  it('opens as one self-contained file: no other request, no console error', () => {
    expect(requested).toHaveLength(1);
    expect(requested[0]).toMatch(/^file:.*report\.html$/);
    expect(consoleErrors).toEqual([]);
  });

  it('says FAILED at the top when a test failed', async () => {
    // biome-ignore lint/performance/useDomNodeTextContent: the test checks the text the page shows; textContent includes hidden text
    expect(await page.locator('body').innerText()).toContain('FAILED');
    expect(await page.title()).toContain('conformance');
  });

  it('shows a failed test open, with its reason and its last request and response', async () => {
    const failed = page.locator('details.test', { hasText: 'a stale If-Match is refused' });
    expect(await failed.getAttribute('open')).not.toBeNull();
    // biome-ignore lint/performance/useDomNodeTextContent: the test checks the text the page shows; textContent includes hidden text
    expect(await failed.innerText()).toContain('expected 412, got 200');
    expect(
      await failed.locator('pre', { hasText: 'PUT http://127.0.0.1:8080/fhir/conformance/Task/7' }).isVisible(),
    ).toBe(true);
    expect(await failed.locator('pre', { hasText: 'HTTP 200' }).isVisible()).toBe(true);
  });

  it('shows what a server sent as text, never as markup', async () => {
    const failed = page.locator('details.test', { hasText: 'a stale If-Match is refused' });
    // biome-ignore lint/performance/useDomNodeTextContent: the test checks the text the page shows; textContent includes hidden text
    expect(await failed.innerText()).toContain('<img src=x onerror=');
    expect(await page.locator('details.test img').count()).toBe(0);
    expect(await page.title()).not.toBe('pwned');
  });

  it('keeps a passed test closed until it is clicked', async () => {
    const passed = page.locator('details.test', { hasText: 'conditional create matches the existing resource' });
    const request = passed.locator('pre', { hasText: 'POST http://127.0.0.1:8080/fhir/conformance/Task' });
    expect(await request.isVisible()).toBe(false);
    await passed.locator('summary').first().click(); // the test
    expect(await request.isVisible()).toBe(false);
    await passed.locator('details.x summary').click(); // its exchange
    expect(await request.isVisible()).toBe(true);
  });
});
