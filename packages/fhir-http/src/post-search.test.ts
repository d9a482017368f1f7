import { gzipSync } from 'node:zlib';
import { forbidden, memoryLogger, OutcomeError, unauthorized } from '@imaging/fhir';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { createFhirApp } from './app.ts';
import { answerUnsupportedInteractions } from './errors.ts';
import { mountSearchByPost, SEARCH_FORM_LIMIT } from './post-search.ts';
import type { RequestVars } from './request-context.ts';
import { fhirResponse } from './responses.ts';

const TOKEN = 'Bearer good';
const SERVED = [
  { type: 'Patient', interactions: ['read', 'search-type', 'create'] },
  // Read by id only: `_search` is not offered on it.
  { type: 'Binary', interactions: ['read'] },
] as const satisfies Parameters<typeof mountSearchByPost>[1];

/**
 * A small FHIR app as the services build theirs: search by POST before the token check, a token check on
 * everything under /fhir (a second token may not search), a search that echoes what it was asked and the
 * trace ids it saw, a read, a write, and the 404/405s after them. `seen` records each search's URL.
 */
function testApp() {
  const logger = memoryLogger();
  const app = createFhirApp<{ Variables: RequestVars }>({ logger });
  const seen: string[] = [];
  let writes = 0;
  mountSearchByPost(app, SERVED);
  app.use('/fhir/*', async (c, next) => {
    const auth = c.req.header('Authorization');
    if (auth !== TOKEN && auth !== 'Bearer read-only') throw new OutcomeError(unauthorized('No valid token'));
    await next();
  });
  app.get('/fhir/Patient', (c) => {
    if (c.req.header('Authorization') !== TOKEN) throw new OutcomeError(forbidden('This token may not search'));
    const url = new URL(c.req.url);
    seen.push(url.href);
    const ids = `${c.get('requestId')} ${c.get('correlationId')}`;
    return fhirResponse({
      resourceType: 'Bundle',
      type: 'searchset',
      id: ids,
      total: [...url.searchParams].length,
      link: [{ relation: 'self', url: `http://fhir.test/fhir/Patient${url.search}` }],
      entry: [...url.searchParams].map(([name, value]) => ({
        resource: { resourceType: 'Basic', id: name, text: { status: 'generated', div: value } },
      })),
    } as Bundle);
  });
  app.get('/fhir/Patient/:id', (c) => fhirResponse({ resourceType: 'Patient', id: c.req.param('id') }));
  app.post('/fhir/Patient', () => {
    writes++;
    return fhirResponse({ resourceType: 'Patient', id: 'new' }, 201);
  });
  answerUnsupportedInteractions(app, SERVED);
  return { app, seen, logger, writes: () => writes };
}

type App = ReturnType<typeof testApp>['app'];

const FORM = 'application/x-www-form-urlencoded';

function postSearch(app: App, path: string, body: RequestInit['body'], headers: Record<string, string> = {}) {
  return app.request(path, {
    method: 'POST',
    body,
    headers: { 'Content-Type': FORM, Authorization: TOKEN, ...headers },
  });
}

const getSearch = (app: App, path: string, headers: Record<string, string> = {}) =>
  app.request(path, { headers: { Authorization: TOKEN, ...headers } });

/** The Bundle without its id (which carries the request's own trace ids). */
async function searchset(res: Response): Promise<Bundle> {
  expect(res.status, await res.clone().text()).toBe(200);
  const { id: _id, ...bundle } = (await res.json()) as Bundle;
  expect(bundle.type).toBe('searchset');
  return bundle as Bundle;
}

async function refusedWith(res: Response, status: number): Promise<OperationOutcome> {
  expect(res.status, await res.clone().text()).toBe(status);
  expect(res.headers.get('Content-Type')).toContain('application/fhir+json');
  const body = (await res.json()) as OperationOutcome;
  expect(body.resourceType).toBe('OperationOutcome');
  return body;
}

describe('search by POST: POST [type]/_search with the parameters as a form', () => {
  it('is answered as the GET search with those parameters: entries, total, self link', async () => {
    const { app, seen } = testApp();
    const query = 'identifier=http%3A%2F%2Fx%7C1&name=a+b&_count=2';
    const byGet = await searchset(await getSearch(app, `/fhir/Patient?${query}`));
    const byPost = await searchset(await postSearch(app, '/fhir/Patient/_search', query));
    expect(byPost).toEqual(byGet);
    expect(byPost.total).toBe(3);
    expect(byPost.link?.[0]?.url).toBe(`http://fhir.test/fhir/Patient?${query}`);
    // What reached the search is a GET of the type's URL: no `_search`, no form.
    expect(seen[1]).toBe(`http://localhost/fhir/Patient?${query}`);
  });

  it("takes the URL's parameters first, then the form's, in order, with repeated names kept", async () => {
    const { app, seen } = testApp();
    const res = await postSearch(app, '/fhir/Patient/_search?name=url&_count=5', 'name=form&given=x&name=again');
    const names = (await searchset(res)).entry?.map((e) => [
      e.resource?.id,
      (e.resource as never as { text: { div: string } }).text.div,
    ]);
    expect(names).toEqual([
      ['name', 'url'],
      ['_count', '5'],
      ['name', 'form'],
      ['given', 'x'],
      ['name', 'again'],
    ]);
    expect(new URL(seen[0] as string).search).toBe('?name=url&_count=5&name=form&given=x&name=again');
  });

  it('decodes the form as a form: + is a space, percent-escapes are UTF-8, a charset of UTF-8 is taken', async () => {
    const { app, seen } = testApp();
    const res = await postSearch(app, '/fhir/Patient/_search', 'name=Zo%C3%AB+Smith&family=', {
      'Content-Type': `${FORM}; charset=UTF-8`,
    });
    expect(res.status).toBe(200);
    expect([...new URL(seen[0] as string).searchParams]).toEqual([
      ['name', 'Zoë Smith'],
      ['family', ''],
    ]);
  });

  it('an empty form searches with what the URL gives, or with nothing', async () => {
    const { app, seen } = testApp();
    expect((await postSearch(app, '/fhir/Patient/_search', '')).status).toBe(200);
    expect((await postSearch(app, '/fhir/Patient/_search?_count=1', '')).status).toBe(200);
    expect(seen).toEqual(['http://localhost/fhir/Patient', 'http://localhost/fhir/Patient?_count=1']);
  });

  it('takes GET [type]/_search?… as the plain search, as HAPI does', async () => {
    const { app } = testApp();
    const byGet = await searchset(await getSearch(app, '/fhir/Patient?name=a&name=b'));
    expect(await searchset(await getSearch(app, '/fhir/Patient/_search?name=a&name=b'))).toEqual(byGet);
  });

  it("carries the caller's trace ids: the search sees them, the answer echoes them", async () => {
    const { app, logger } = testApp();
    const res = await postSearch(app, '/fhir/Patient/_search', 'name=a', {
      'X-Request-ID': 'req-1',
      'X-Correlation-ID': 'case-1',
    });
    expect(((await res.json()) as Bundle).id).toBe('req-1 case-1');
    expect(res.headers.get('X-Request-ID')).toBe('req-1');
    expect(res.headers.get('X-Correlation-ID')).toBe('case-1');
    // Without ids of its own, the search sees the ones made up for this request.
    const minted = await postSearch(app, '/fhir/Patient/_search', 'name=a');
    const requestId = minted.headers.get('X-Request-ID');
    expect(requestId).toBeTruthy();
    expect(((await minted.json()) as Bundle).id).toBe(`${requestId} ${requestId}`);
    const lines = logger.entries.filter((e) => e.message === 'request' && e.requestId === 'req-1');
    expect(lines.map((e) => [e.method, e.path, e.status])).toEqual(
      expect.arrayContaining([
        ['GET', '/fhir/Patient', 200],
        ['POST', '/fhir/Patient/_search', 200],
      ]),
    );
  });
});

describe('search by POST: what is refused, as an OperationOutcome, with nothing written', () => {
  it.each([
    ['application/fhir+json', 'application/fhir+json'],
    ['no Content-Type', undefined],
    ['a form in another charset', `${FORM}; charset=ISO-8859-1`],
    ['multipart/form-data', 'multipart/form-data; boundary=x'],
  ])('a body sent as %s is a 415', async (_name, contentType) => {
    const { app, seen, writes } = testApp();
    const res = await app.request('/fhir/Patient/_search', {
      method: 'POST',
      body: contentType === 'application/fhir+json' ? '{"resourceType":"Patient"}' : 'name=a',
      headers: contentType ? { Authorization: TOKEN, 'Content-Type': contentType } : { Authorization: TOKEN },
    });
    const outcome = await refusedWith(res, 415);
    expect(outcome.issue[0]?.code).toBe('not-supported');
    expect(outcome.issue[0]?.diagnostics).toContain(FORM);
    expect(seen).toEqual([]);
    expect(writes()).toBe(0);
  });

  it('a compressed form is a 415 saying so', async () => {
    const { app, seen } = testApp();
    const res = await app.request('/fhir/Patient/_search', {
      method: 'POST',
      body: new Uint8Array(gzipSync('name=a')),
      headers: { Authorization: TOKEN, 'Content-Type': FORM, 'Content-Encoding': 'gzip' },
    });
    expect((await refusedWith(res, 415)).issue[0]?.diagnostics).toContain("Content-Encoding 'gzip'");
    expect(seen).toEqual([]);
  });

  it.each([
    ['a stray %', 'name=100%'],
    ['a bad escape', 'name=%zz'],
    ['an escape that is not UTF-8', 'name=%C3'],
    ['bytes that are not UTF-8', new Uint8Array([0x6e, 0x3d, 0xff])],
  ])('a form with %s is a 400', async (_name, body) => {
    const { app, seen, writes } = testApp();
    const outcome = await refusedWith(await postSearch(app, '/fhir/Patient/_search', body), 400);
    expect(outcome.issue[0]?.diagnostics).toContain(FORM);
    expect(seen).toEqual([]);
    expect(writes()).toBe(0);
  });

  it('a form over the limit is a 413, by its Content-Length or by what is read', async () => {
    const { app, seen } = testApp();
    const large = `name=${'a'.repeat(SEARCH_FORM_LIMIT)}`;
    await refusedWith(await postSearch(app, '/fhir/Patient/_search', large), 413);
    await refusedWith(
      await postSearch(app, '/fhir/Patient/_search', large, { 'Content-Length': String(large.length) }),
      413,
    );
    const streamed = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(large));
        controller.close();
      },
    });
    const res = await app.request('/fhir/Patient/_search', {
      method: 'POST',
      body: streamed,
      headers: { 'Content-Type': FORM, Authorization: TOKEN },
      duplex: 'half',
    } as RequestInit);
    await refusedWith(res, 413);
    expect(seen).toEqual([]);
  });

  it('is taken only on a type searched here: one not served is a 404, one served without search a 405, as before', async () => {
    const { app, seen } = testApp();
    expect((await postSearch(app, '/fhir/Patient/_search', 'name=a')).status).toBe(200);
    seen.length = 0;
    expect((await refusedWith(await postSearch(app, '/fhir/Observation/_search', 'code=x'), 404)).issue[0]?.code).toBe(
      'not-supported',
    );
    const res = await postSearch(app, '/fhir/Binary/_search', 'x=y');
    await refusedWith(res, 405);
    expect(res.headers.get('Allow')).toBe('GET');
    expect(seen).toEqual([]);
  });

  it('without a token it is a 401, and for a token that may not search the 403 the GET gets', async () => {
    const { app, seen } = testApp();
    const noToken = await app.request('/fhir/Patient/_search', {
      method: 'POST',
      body: 'name=a',
      headers: { 'Content-Type': FORM },
    });
    expect((await refusedWith(noToken, 401)).issue[0]?.code).toBe('login');
    const readOnly = { Authorization: 'Bearer read-only' };
    const byGet = await refusedWith(await getSearch(app, '/fhir/Patient?name=a', readOnly), 403);
    expect(await refusedWith(await postSearch(app, '/fhir/Patient/_search', 'name=a', readOnly), 403)).toEqual(byGet);
    expect(seen).toEqual([]);
  });
});
