import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let dist: string | undefined;
let stylesheet: string | undefined;

/**
 * Where the installed nhsuk-frontend keeps its built CSS, JS and assets (served from here, never a CDN).
 * Resolved on first use, not when a service loads this module: the gateway needs it only for a page.
 */
export function nhsukDist(): string {
  dist ??= dirname(fileURLToPath(import.meta.resolve('nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css')));
  return dist;
}

/**
 * NHS.UK frontend's stylesheet (read once). Its @font-face rules are dropped: Frutiger is served only from
 * the NHS's own font host, and our pages fetch nothing from outside (the stylesheet's fallback is Arial).
 */
export function nhsukStylesheet(): string {
  stylesheet ??= readFileSync(join(nhsukDist(), 'nhsuk-frontend.min.css'), 'utf8').replace(/@font-face\{[^}]*\}/g, '');
  return stylesheet;
}
