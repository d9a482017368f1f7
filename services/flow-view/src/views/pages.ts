import type { Resource } from '@medplum/fhirtypes';
import type { ResourceRef } from '../domain/case-timeline.ts';
import type { Html } from './html.ts';
import { html } from './html.ts';
import type { ViewerInfo } from './layout.ts';
import { page } from './layout.ts';

/** Sign in: paste an access token the hub issued; it is kept in a cookie only this site can read, until it expires. */
export function loginPage(options: { next: string; problem?: string; hubUrl: string }): Html {
  return page(
    { title: 'Sign in' },
    html`
${
  options.problem
    ? html`<div class="nhsuk-error-summary" aria-labelledby="error-summary-title" role="alert" tabindex="-1">
  <h2 class="nhsuk-error-summary__title" id="error-summary-title">There is a problem</h2>
  <div class="nhsuk-error-summary__body"><ul class="nhsuk-list nhsuk-error-summary__list"><li><a href="#token">${options.problem}</a></li></ul></div>
</div>`
    : ''
}
<h1>Sign in with an access token</h1>
<p>A case shows one patient's order and results, so it needs an access token from the national hub
(${options.hubUrl}) that carries the scope <code>flow/case</code>.</p>
<p>On the demo's topology, get one for the flow view's own client:</p>
<pre class="fv-code"><code>export IMAGING_DATA_DIR=.data/demo IMAGING_TOPOLOGY=.data/demo/topology.json
npm run -s token -- flow-view</code></pre>
<form method="post" action="/login" novalidate>
  <input type="hidden" name="next" value="${options.next}">
  <div class="nhsuk-form-group${options.problem ? ' nhsuk-form-group--error' : ''}">
    <label class="nhsuk-label" for="token">Access token</label>
    <div class="nhsuk-hint" id="token-hint">It lasts 5 minutes. It is not shown again, and it is forgotten when you sign out.</div>
    ${options.problem ? html`<span class="nhsuk-error-message" id="token-error"><span class="nhsuk-u-visually-hidden">Error:</span> ${options.problem}</span>` : ''}
    <input class="nhsuk-input${options.problem ? ' nhsuk-input--error' : ''}" id="token" name="token" type="password" autocomplete="off" spellcheck="false" aria-describedby="token-hint${options.problem ? ' token-error' : ''}">
  </div>
  <button class="nhsuk-button" type="submit">Sign in</button>
</form>
`,
  );
}

/** One stored version, as the service that holds it gave it. */
export function resourcePage(
  correlationId: string,
  ref: ResourceRef,
  resource: Resource,
  viewer: ViewerInfo | undefined,
  path: string,
): Html {
  return page(
    { title: `${ref.type} ${ref.id}`, ...(viewer ? { viewer } : {}), path },
    html`
<a class="nhsuk-back-link" href="/cases/${encodeURIComponent(correlationId)}">Back to case ${correlationId}</a>
<h1><span class="nhsuk-caption-l">Stored by ${ref.source === 'hub' ? 'the national hub' : `the ${ref.source} gateway`}</span> ${ref.type} ${ref.id}, version ${ref.version}</h1>
<p>Read it yourself at <code class="fv-url">${ref.url}</code> with a token that may.</p>
<pre class="fv-json" tabindex="0"><code>${JSON.stringify(resource, null, 2)}</code></pre>
`,
  );
}

/** Any error, as a page: what went wrong in words, never a stack trace. */
export function errorPage(status: number, text: string, viewer?: ViewerInfo): Html {
  const title =
    status === 404
      ? 'Page not found'
      : status === 403
        ? 'Not allowed'
        : status >= 500
          ? 'Something went wrong'
          : 'That did not work';
  return page(
    { title, ...(viewer ? { viewer } : {}) },
    html`<h1>${title}</h1>
<p>${text}</p>
<p><a href="/">Back to the live flow</a></p>`,
  );
}
