import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium } from './index.ts';

describe('launchChromium', () => {
  const browser = launchChromium();
  afterAll(async () => (await browser).close());

  it('renders a page, running its script, and asks for nothing it was not given', async () => {
    const page = await (await browser).newPage();
    const requested: string[] = [];
    page.on('request', (request) => void requested.push(request.url()));
    await page.setContent('<main><h1>Flow</h1><p id="out"></p><script>out.textContent = 2 + 2;</script></main>');
    expect(await page.locator('h1').textContent()).toBe('Flow');
    expect(await page.locator('#out').textContent()).toBe('4');
    expect(requested).toEqual([]);
  });
});
