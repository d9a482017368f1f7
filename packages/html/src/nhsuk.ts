import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the installed nhsuk-frontend keeps its built CSS, JS and assets (served from here, never a CDN). */
export const NHSUK_DIST = dirname(
  fileURLToPath(import.meta.resolve('nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css')),
);

let stylesheet: string | undefined;

/**
 * NHS.UK frontend's stylesheet (read once). Its @font-face rules are dropped: Frutiger is served only from the NHS's
 * own font host, and our pages fetch nothing from outside (the stylesheet's fallback is Arial).
 */
export function nhsukStylesheet(): string {
  stylesheet ??= readFileSync(join(NHSUK_DIST, 'nhsuk-frontend.min.css'), 'utf8').replace(/@font-face\{[^}]*\}/g, '');
  return stylesheet;
}
