import type { OperationOutcome } from '@medplum/fhirtypes';
import type { AlertCategory } from '@imaging/fhir';
import { SYSTEMS } from '@imaging/fhir';
import { examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { readEventStream } from '@imaging/fhir-http';
import { connectedRegions, deliverDue, GP, placeOrder, registerPatient } from '@imaging/regional-gateway/testing';
import { afterAll, describe, expect, it } from 'vitest';
import type { DemoControls } from './domain/ports.ts';
import type { ViewUpdate } from './live.ts';
import { flowViewOver } from './testing/index.ts';

const regions = await connectedRegions();
const calls: string[] = [];
const demo: DemoControls = {
  about: { order: 'The GP orders a CT chest.', report: 'The RIS reports it.' },
  placeOrder: async () => {
    calls.push('order');
    return { ok: true, text: 'Order N81001-1 placed.', correlationId: 'case-N81001-1' };
  },
  issueReport: async (category: AlertCategory) => {
    calls.push(`report ${category}`);
    return { ok: false, text: 'Place an order first.' };
  },
  stopRegion: async (id) => {
    calls.push(`stop ${id}`);
    return { ok: true, text: `${id} stopped.` };
  },
  startRegion: async (id) => {
    calls.push(`start ${id}`);
    return { ok: true, text: `${id} started.` };
  },
  regions: () => [
    { id: 'north', running: true },
    { id: 'midlands', running: false },
  ],
};
const secure = await flowViewOver(regions);
const open = await flowViewOver(regions, { publicOverview: true, demo });
afterAll(() => {
  secure.close();
  open.close();
  regions.close();
});

const CASE = 'case-N81001-000901-1';
await registerPatient(regions.north.deps, GP, examplePatient());
await placeOrder(
  regions.north.deps,
  GP,
  exampleServiceRequest({ identifier: [{ system: SYSTEMS.placerOrder, value: 'N81001-000901-1' }] }),
  CASE,
);
await deliverDue(regions.north.deps);

const page = { Accept: 'text/html' };
const bearer = async (client = 'flow-view') => ({ Authorization: `Bearer ${await regions.tokenFor(client)}` });

async function outcome(res: Response): Promise<OperationOutcome> {
  const body = (await res.json()) as OperationOutcome;
  expect(body.resourceType).toBe('OperationOutcome');
  return body;
}

describe('the overview', () => {
  it('outside the dev topology, needs a token: a browser is sent to sign in, anything else gets 401', async () => {
    const browser = await secure.app.request('/', { headers: page });
    expect(browser.status).toBe(303);
    expect(browser.headers.get('Location')).toBe('/login?next=%2F');
    const data = await secure.app.request('/live');
    expect(data.status).toBe(401);
    expect((await outcome(data)).issue?.[0]?.code).toBe('login');
    const signedIn = await secure.app.request('/', { headers: { ...page, ...(await bearer()) } });
    expect(signedIn.status).toBe(200);
    expect(await signedIn.text()).toContain('Signed in as <strong>flow-view</strong>');
  });

  it('a token without scope flow/events is refused', async () => {
    const res = await secure.app.request('/', { headers: { ...page, ...(await bearer('gp-n81001')) } });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('does not carry scope flow/events');
  });

  it('on the dev topology is public: every service from the hub’s directory, in NHS styling, nothing from elsewhere', async () => {
    const res = await open.app.request('/', { headers: page });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Security-Policy')).toContain("default-src 'self'");
    const html = await res.text();
    for (const id of ['hub', 'north', 'midlands', 'south']) expect(html).toContain(`id="node-${id}"`);
    expect(html).toContain('fv-pos-top');
    expect(html).toContain('href="/assets/nhsuk.css"');
    expect(html).toContain('<script src="/assets/flow.js" type="module"></script>');
    // Every stylesheet, script and link the page loads is its own.
    const addresses = [...html.matchAll(/(?:src|href|action)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(addresses.filter((u) => !u.startsWith('/') && !u.startsWith('#'))).toEqual([]);
    expect(html).toContain('No open result alerts.');
    expect(html).toContain('Take north down');
    expect(html).toContain('Bring midlands back');
  });

  it('serves the design system’s CSS from the package, without its web fonts (a request to another site)', async () => {
    const css = await open.app.request('/assets/nhsuk.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('Content-Type')).toBe('text/css; charset=utf-8');
    const text = await css.text();
    expect(text).toContain('.nhsuk-header');
    expect(text).not.toContain('assets.nhs.uk');
    expect((await open.app.request('/assets/images/nhsuk-icon-cross.svg')).status).toBe(200);
    expect((await open.app.request('/assets/../package.json')).status).toBe(404);
    expect((await open.app.request('/assets/flow.js')).headers.get('Content-Type')).toBe(
      'text/javascript; charset=utf-8',
    );
  });
});

describe('/live: the overview’s updates', () => {
  it('starts with the nodes as they are, then sends each change rendered, for the script to put in place', async () => {
    const stopped = new AbortController();
    const res = await open.app.request('/live', { signal: stopped.signal });
    expect(res.headers.get('Content-Type')).toBe('text/event-stream; charset=utf-8');
    const seen: ViewUpdate[] = [];
    const reading = (async () => {
      for await (const e of readEventStream(res.body as ReadableStream<Uint8Array>)) {
        const update = JSON.parse(e.data) as ViewUpdate;
        seen.push(update);
        if (update.type === 'activity' && update.move) break;
      }
    })();
    for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    open.feed('midlands').onStatus(true);
    open.feed('midlands').onStatus(false, 'connection refused');
    open.feed('north').onEvent({
      type: 'delivery',
      service: 'imaging-north',
      at: '2026-11-23T09:00:02Z',
      requestId: 'r-1',
      correlationId: CASE,
      destination: 'imaging-midlands',
      kind: 'message',
      event: 'servicerequest-request',
      state: 'delivered',
      attempts: 1,
      queuedAt: '2026-11-23T09:00:01Z',
      deliveredAt: '2026-11-23T09:00:01.905Z',
    });
    await reading;
    stopped.abort();
    expect(seen.map((u) => u.type)).toEqual(['sync', 'node', 'node', 'activity', 'node', 'activity']);
    const sync = seen[0];
    expect(sync?.type === 'sync' && sync.nodes.map((n) => n.id)).toEqual(['hub', 'north', 'midlands', 'south']);
    const down = seen.find((u): u is Extract<ViewUpdate, { type: 'node' }> => u.type === 'node' && /Down/.test(u.html));
    expect(down?.html).toContain('connection refused');
    expect(seen[3]?.type === 'activity' && seen[3].text).toBe('The midlands gateway is down (connection refused)');
    const moved = seen.at(-1);
    expect(moved?.type === 'activity' && [moved.text, moved.move]).toEqual([
      'Order north → midlands delivered in 905 ms',
      { from: 'north', to: 'midlands', outcome: 'delivered', label: 'order' },
    ]);
  });
});

describe('signing in', () => {
  const form = (fields: Record<string, string>, origin = 'http://localhost') =>
    ({
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin, ...page },
      body: new URLSearchParams(fields).toString(),
    }) as const;

  it('keeps a good token in an HttpOnly, SameSite=Strict cookie, and goes back where it was going', async () => {
    const token = await regions.tokenFor('flow-view');
    const res = await secure.app.request('http://localhost/login', form({ token, next: `/cases/${CASE}` }));
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe(`/cases/${CASE}`);
    const cookie = res.headers.get('Set-Cookie') ?? '';
    expect(cookie).toMatch(/^flow_view_token=/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const story = await secure.app.request(`/cases/${CASE}`, {
      headers: { ...page, Cookie: cookie.split(';')[0] as string },
    });
    expect(story.status).toBe(200);
  });

  it('never sends anyone to another site after signing in', async () => {
    const token = await regions.tokenFor('flow-view');
    for (const next of ['//evil.example/', 'https://evil.example/', '/\\evil.example'])
      expect((await secure.app.request('http://localhost/login', form({ token, next }))).headers.get('Location')).toBe(
        '/',
      );
  });

  it('refuses a token the hub did not issue, and a form from another site', async () => {
    const bad = await secure.app.request('http://localhost/login', form({ token: 'not.a.token' }));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('There is a problem');
    const empty = await secure.app.request('http://localhost/login', form({ token: '' }));
    expect(empty.status).toBe(400);
    const token = await regions.tokenFor('flow-view');
    const crossSite = await secure.app.request('http://localhost/login', form({ token }, 'https://evil.example'));
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.get('Set-Cookie')).toBeNull();
  });
});

describe('a case', () => {
  it('needs a token with scope flow/case, even where the overview is public', async () => {
    const anonymous = await open.app.request(`/cases/${CASE}`, { headers: page });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('Location')).toBe(`/login?next=${encodeURIComponent(`/cases/${CASE}`)}`);
    expect((await open.app.request(`/cases/${CASE}`)).status).toBe(401);
    const gp = await open.app.request(`/cases/${CASE}`, { headers: { ...page, ...(await bearer('gp-n81001')) } });
    expect(gp.status).toBe(403);
  });

  it('shows the story in swimlanes, each row linking the stored version it comes from', async () => {
    const res = await open.app.request(`/cases/${CASE}`, { headers: { ...page, ...(await bearer()) } });
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const lane of ['GP practice N81001', 'North gateway', 'National hub', 'Midlands gateway', 'RIS/PACS RM1'])
      expect(html).toContain(lane);
    expect(html).toContain('Places order N81001-000901-1');
    expect(html).toContain('Hub routes the order north → midlands: delivered');
    expect(html).toMatch(/From GP practice N81001 to North gateway: /);
    const link = /href="(\/cases\/[^"]+\/resources\/north\/ServiceRequest\/[^"]+\/_history\/1)"/.exec(html)?.[1];
    expect(link).toBeDefined();
    const raw = await open.app.request(link as string, { headers: { ...page, ...(await bearer()) } });
    expect(raw.status).toBe(200);
    const body = await raw.text();
    expect(body).toContain('&quot;resourceType&quot;: &quot;ServiceRequest&quot;');
    expect(body).toContain(`${regions.north.deps.region.fhirBaseUrl}/ServiceRequest/`);
  });

  it('a version that is not part of the case, or a service that is not in the topology, is a 404', async () => {
    const auth = { ...page, ...(await bearer()) };
    const missing = await open.app.request(`/cases/${CASE}/resources/north/Task/nope/_history/1`, { headers: auth });
    expect(missing.status).toBe(404);
    const nowhere = await open.app.request(`/cases/${CASE}/resources/atlantis/Task/x/_history/1`, { headers: auth });
    expect(nowhere.status).toBe(404);
  });

  it('a malformed case id is a 400, as a page or as an OperationOutcome; never a 500', async () => {
    const auth = await bearer();
    const asPage = await open.app.request('/cases?correlation-id=a%20b', { headers: { ...page, ...auth } });
    expect(asPage.status).toBe(400);
    expect(await asPage.text()).toContain('correlation id');
    const asData = await open.app.request(`/cases/${'x'.repeat(129)}`, { headers: auth });
    expect(asData.status).toBe(400);
    expect((await outcome(asData)).issue?.[0]?.expression).toEqual(['correlation-id']);
    const found = await open.app.request(`/cases?correlation-id=${CASE}`, { headers: page });
    expect(found.headers.get('Location')).toBe(`/cases/${CASE}`);
  });
});

describe('the demo’s controls', () => {
  const post = (path: string, body = '', headers: Record<string, string> = {}) =>
    open.app.request(`http://localhost${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://localhost', ...headers },
      body,
    });

  it('act, and answer the script with the outcome, or a form with the overview showing it', async () => {
    const json = await post('/demo/orders', '', { Accept: 'application/json' });
    expect(json.status).toBe(200);
    expect(await json.json()).toMatchObject({
      ok: true,
      text: 'Order N81001-1 placed.',
      correlationId: 'case-N81001-1',
    });
    const form = await post('/demo/regions/north/stop', '', page);
    expect(form.status).toBe(303);
    const location = form.headers.get('Location') as string;
    expect(location).toMatch(/^\/\?notice=\d+#notice$/);
    expect(await (await open.app.request(location, { headers: page })).text()).toContain('north stopped.');
    const refused = await post('/demo/reports', 'category=CANCER', { Accept: 'application/json' });
    expect(refused.status).toBe(409);
    expect(calls).toEqual(['order', 'stop north', 'report CANCER']);
  });

  it('refuse bad input, another site, and a region the demo does not run; none exists without the demo', async () => {
    calls.length = 0;
    expect((await post('/demo/reports', 'category=VERY', { Accept: 'application/json' })).status).toBe(400);
    expect((await post('/demo/regions/atlantis/stop')).status).toBe(404);
    expect((await post('/demo/orders', '', { Origin: 'https://evil.example' })).status).toBe(403);
    expect((await post('/demo/orders', '', { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await post('/demo/orders', '', { Origin: 'null', 'Sec-Fetch-Site': 'same-site' })).status).toBe(403);
    expect(calls).toEqual([]);
    expect((await secure.app.request('/demo/orders', { method: 'POST' })).status).toBe(404);
  });
});

describe('anything else', () => {
  it('is a 404 page, or a FHIR not-found', async () => {
    const asPage = await open.app.request('/nowhere', { headers: page });
    expect(asPage.status).toBe(404);
    expect(await asPage.text()).toContain('Page not found');
    expect((await outcome(await open.app.request('/nowhere'))).issue?.[0]?.code).toBe('not-found');
  });
});
