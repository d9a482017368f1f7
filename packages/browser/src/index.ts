import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';

/** Debian's Chromium (infra/browser/ensure-chromium.sh installs it); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Chromium, headless, with the flags that work on this machine: as root it needs --no-sandbox, and
 * without the background-networking flags it keeps trying hosts the closed network refuses.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
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
