import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nhsukDist, nhsukStylesheet } from '@imaging/html';
import { Hono } from 'hono';
import type { AppEnv } from '../deps.ts';

/**
 * The page's stylesheets, script and icons, all served from here: the NHS design system's CSS and icons
 * from the `nhsuk-frontend` package (never a CDN), the view's own CSS and script from src/assets.
 */
const OWN = join(import.meta.dirname, '..', 'assets');

const TYPES: Record<string, string> = {
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
};

export function assetRoutes(): Hono<AppEnv> {
  const files = new Map<string, { body: Uint8Array | string; type: string }>([
    ['nhsuk.css', { body: nhsukStylesheet(), type: TYPES.css as string }],
    ['flow.css', { body: readFileSync(join(OWN, 'flow.css'), 'utf8'), type: TYPES.css as string }],
    ['flow.js', { body: readFileSync(join(OWN, 'flow.js'), 'utf8'), type: TYPES.js as string }],
  ]);
  // The icons the CSS refers to (url(/assets/images/…)); only these names are served, read once.
  for (const name of readdirSync(join(nhsukDist(), 'assets', 'images'))) {
    const type = TYPES[name.split('.').at(-1) ?? ''];
    if (type) files.set(`images/${name}`, { body: readFileSync(join(nhsukDist(), 'assets', 'images', name)), type });
  }
  const app = new Hono<AppEnv>();
  app.get('/*', (c) => {
    const file = files.get(c.req.path.replace(/^\/assets\//, ''));
    if (!file) return c.notFound();
    return c.body(typeof file.body === 'string' ? file.body : new Uint8Array(file.body), 200, {
      'Content-Type': file.type,
      'Cache-Control': 'public, max-age=300',
    });
  });
  return app;
}
