import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';

/** Debian's Chromium (infra/browser/ensure-chromium.sh), headless, with the flags that work on this machine. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
