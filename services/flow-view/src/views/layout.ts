import type { Part } from './html.ts';
import { Html, html, clockTime } from './html.ts';

/** Who is looking, as the header shows it. */
export interface ViewerInfo {
  clientId: string;
  expiresAt: string;
}

export interface PageOptions {
  title: string;
  viewer?: ViewerInfo;
  /** The page's own script (the overview's live updates); none by default. */
  script?: boolean;
  /** Where sign-in should come back to. */
  path?: string;
}

/** The NHS design system's page: header, main, footer; the stylesheets are served from the package. */
export function page(options: PageOptions, body: Part): Html {
  return html`<!DOCTYPE html>
<html lang="en-GB" class="nhsuk-template">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} – imaging-connect flow view</title>
<link rel="stylesheet" href="/assets/nhsuk.css">
<link rel="stylesheet" href="/assets/flow.css">
</head>
<body class="nhsuk-template__body">
<a class="nhsuk-skip-link" href="#maincontent">Skip to main content</a>
<header class="nhsuk-header" role="banner">
  <div class="nhsuk-header__container nhsuk-width-container-fluid fv-width">
    <div class="nhsuk-header__service">
      <a class="nhsuk-header__service-name" href="/">imaging-connect flow view</a>
    </div>
    <div class="fv-account">${account(options)}</div>
  </div>
</header>
<div class="nhsuk-width-container-fluid fv-width">
<main class="nhsuk-main-wrapper" id="maincontent">
${body}
</main>
</div>
<footer class="nhsuk-footer" role="contentinfo">
  <div class="nhsuk-width-container-fluid fv-width">
    <div class="nhsuk-footer__meta">
      <h2 class="nhsuk-u-visually-hidden">About this view</h2>
      <p class="nhsuk-body-s">A reference implementation of national and regional imaging connectivity. Test data only: no real patients.</p>
    </div>
  </div>
</footer>
${options.script ? html`<script src="/assets/flow.js" type="module"></script>` : ''}
</body>
</html>
`;
}

function account(options: PageOptions): Html {
  if (options.viewer)
    return html`<form method="post" action="/logout" class="fv-account__form">
      <span>Signed in as <strong>${options.viewer.clientId}</strong> until ${clockTime(options.viewer.expiresAt)}</span>
      <button class="fv-link-button" type="submit">Sign out</button>
    </form>`;
  const next = options.path && options.path !== '/' ? `?next=${encodeURIComponent(options.path)}` : '';
  return html`<a class="fv-account__link" href="/login${next}">Sign in with a token</a>`;
}

/** An NHS tag. */
export function tag(text: string, colour: 'green' | 'red' | 'grey' | 'orange' | 'yellow' | 'blue' | 'white'): Html {
  return html`<strong class="nhsuk-tag nhsuk-tag--${colour}">${text}</strong>`;
}

/** A notification banner (success or important), for the outcome of an action. */
export function banner(text: string, ok: boolean, link?: { href: string; text: string }): Html {
  return html`<div class="nhsuk-notification-banner${ok ? ' nhsuk-notification-banner--success' : ''}" role="${ok ? 'status' : 'alert'}" aria-labelledby="notice-title" id="notice">
  <div class="nhsuk-notification-banner__header">
    <h2 class="nhsuk-notification-banner__title" id="notice-title">${ok ? 'Done' : 'Not done'}</h2>
  </div>
  <div class="nhsuk-notification-banner__content">
    <p class="fv-notice">${text}${link ? html` <a class="nhsuk-notification-banner__link" href="${link.href}">${link.text}</a>` : ''}</p>
  </div>
</div>`;
}

export { Html };
