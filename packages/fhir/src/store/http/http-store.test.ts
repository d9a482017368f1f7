import type { Bundle, OperationOutcome, ServiceRequest, Task } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { expectOutcome } from '../contract/index.ts';
import { SqliteStore } from '../sqlite/sqlite-store.ts';
import { HttpStore } from './http-store.ts';

const BASE = 'http://fhir.test:8080/fhir/north';

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

type Reply = Response | ((request: Seen, signal: AbortSignal | undefined) => Promise<Response> | Response);

/** A fetch that records every request and answers from a script, in order. */
function fakeFetch(...replies: Reply[]): { fetch: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const fake = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const headers = Object.fromEntries(
      Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const request: Seen = {
      method: init?.method ?? 'GET',
      url: String(input),
      headers,
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    seen.push(request);
    const reply = replies.shift();
    if (!reply) throw new Error(`unexpected request ${request.method} ${request.url}`);
    return typeof reply === 'function' ? reply(request, init?.signal ?? undefined) : reply;
  };
  return { fetch: fake as typeof fetch, seen };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/fhir+json', ...headers } });

const outcome = (code: string, text: string): OperationOutcome => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code: code as 'processing', diagnostics: text }],
});

const storedTask = (version = '1'): Task & { id: string } => ({
  resourceType: 'Task',
  id: 't1',
  status: 'requested',
  intent: 'order',
  meta: { versionId: version, lastUpdated: '2026-03-05T12:00:00.000+00:00' },
});

const searchset = (entries: Bundle['entry'], next?: string, total?: number): Bundle => ({
  resourceType: 'Bundle',
  type: 'searchset',
  ...(total === undefined ? {} : { total }),
  ...(next ? { link: [{ relation: 'next', url: next }] } : {}),
  entry: entries,
});

describe('HttpStore', () => {
  describe('requests', () => {
    it('reads with FHIR JSON headers and the caller headers, fetched for every request', async () => {
      const { fetch, seen } = fakeFetch(json(200, storedTask()), json(200, storedTask()));
      let token = 0;
      const store = new HttpStore({
        baseUrl: `${BASE}/`,
        fetch,
        headers: async () => ({ Authorization: `Bearer t${++token}` }),
      });
      expect(await store.read<Task>('Task', 't1')).toEqual(storedTask());
      await store.read<Task>('Task', 't1');
      expect(seen[0]).toMatchObject({
        method: 'GET',
        url: `${BASE}/Task/t1`,
        headers: { accept: 'application/fhir+json', authorization: 'Bearer t1' },
      });
      expect(seen[1]?.headers.authorization).toBe('Bearer t2');
      expect(seen[0]?.headers['content-type']).toBeUndefined();
    });

    it('creates with Prefer: return=representation and If-None-Exist; 201 is created, 200 is a match', async () => {
      const { fetch, seen } = fakeFetch(json(201, storedTask()), json(200, storedTask()));
      const store = new HttpStore({ baseUrl: BASE, fetch });
      const task: Task = { resourceType: 'Task', status: 'requested', intent: 'order' };
      const first = await store.create(task, { ifNoneExist: 'identifier=sys|a b' });
      expect(first).toEqual({ resource: storedTask(), created: true });
      expect(seen[0]).toMatchObject({
        method: 'POST',
        url: `${BASE}/Task`,
        body: task,
        headers: {
          'content-type': 'application/fhir+json',
          prefer: 'return=representation',
          'if-none-exist': 'identifier=sys%7Ca+b',
        },
      });
      const again = await store.create(task, { ifNoneExist: 'identifier=sys|a b' });
      expect(again.created).toBe(false);
    });

    it('reads the resource back from Location when the server ignores Prefer', async () => {
      const { fetch, seen } = fakeFetch(
        new Response(null, { status: 201, headers: { Location: `${BASE}/Task/t1/_history/1` } }),
        json(200, storedTask()),
      );
      const store = new HttpStore({ baseUrl: BASE, fetch });
      const result = await store.create<Task>({ resourceType: 'Task', status: 'requested', intent: 'order' });
      expect(result).toEqual({ resource: storedTask(), created: true });
      expect(seen[1]).toMatchObject({ method: 'GET', url: `${BASE}/Task/t1` });
    });

    it('a create answered with neither a resource nor a Location is 502', async () => {
      const { fetch } = fakeFetch(new Response(null, { status: 201 }));
      const store = new HttpStore({ baseUrl: BASE, fetch });
      await expectOutcome(store.create<Task>({ resourceType: 'Task', status: 'requested', intent: 'order' }), 502);
    });

    it('updates with If-Match as a weak ETag, whatever form the version came in', async () => {
      const { fetch, seen } = fakeFetch(json(200, storedTask('4')), json(200, storedTask('5')));
      const store = new HttpStore({ baseUrl: BASE, fetch });
      await store.update(storedTask('3'), { ifMatch: '3' });
      await store.update(storedTask('4'), { ifMatch: 'W/"4"' });
      expect(seen[0]).toMatchObject({ method: 'PUT', url: `${BASE}/Task/t1`, headers: { 'if-match': 'W/"3"' } });
      expect(seen[1]?.headers['if-match']).toBe('W/"4"');
    });

    it('searches with Cache-Control: no-cache and sorts entries into matches and includes', async () => {
      const org = { resourceType: 'Organization', id: 'o1' } as const;
      const warning = outcome('informational', 'slow');
      const { fetch, seen } = fakeFetch(
        json(
          200,
          searchset(
            [
              { resource: storedTask(), search: { mode: 'match' } },
              { resource: org, search: { mode: 'include' } },
              { resource: warning, search: { mode: 'outcome' } },
            ],
            `${BASE}?_getpages=abc&_getpagesoffset=1`,
            7,
          ),
        ),
      );
      const store = new HttpStore({ baseUrl: BASE, fetch });
      const page = await store.search<Task>('Task', { status: ['requested', 'accepted'], owner: 'Organization/o1' });
      expect(seen[0]?.url).toBe(`${BASE}/Task?status=requested&status=accepted&owner=Organization%2Fo1`);
      expect(seen[0]?.headers['cache-control']).toBe('no-cache');
      expect(page).toEqual({
        resources: [storedTask()],
        included: [org],
        total: 7,
        next: `${BASE}?_getpages=abc&_getpagesoffset=1`,
      });
    });

    it('passes _sort, _revinclude and _summary=count through as written, and reads their answers', async () => {
      const order: ServiceRequest = {
        resourceType: 'ServiceRequest',
        id: 's1',
        status: 'active',
        intent: 'order',
        subject: { reference: 'Patient/p1' },
      };
      const { fetch, seen } = fakeFetch(
        json(
          200,
          searchset([
            { resource: order, search: { mode: 'match' } },
            { resource: storedTask(), search: { mode: 'include' } },
          ]),
        ),
        json(200, { resourceType: 'Bundle', type: 'searchset', total: 3 }),
      );
      const store = new HttpStore({ baseUrl: BASE, fetch });
      const page = await store.search('ServiceRequest', {
        _id: 's1',
        _revinclude: 'Task:focus',
        _sort: 'status,-authored',
      });
      expect(new URL(seen[0]?.url as string).search).toBe(
        `?${new URLSearchParams({ _id: 's1', _revinclude: 'Task:focus', _sort: 'status,-authored' })}`,
      );
      expect(page).toEqual({ resources: [order], included: [storedTask()] });
      const count = await store.search('Task', { 'owner:identifier': 'sys|RM1', _summary: 'count' });
      expect(new URL(seen[1]?.url as string).searchParams.get('_summary')).toBe('count');
      expect(count).toEqual({ resources: [], included: [], total: 3 });
    });

    it('asks _count=0 as _summary=count (R4 search.html#count), and refuses it with another _summary unasked', async () => {
      const { fetch, seen } = fakeFetch(json(200, { resourceType: 'Bundle', type: 'searchset', total: 3 }));
      const store = new HttpStore({ baseUrl: BASE, fetch });
      const count = await store.search('Task', { status: 'requested', _count: '0' });
      expect(new URL(seen[0]?.url as string).search).toBe('?status=requested&_summary=count');
      expect(count).toEqual({ resources: [], included: [], total: 3 });
      const err = await expectOutcome(store.search('Task', { _count: '0', _summary: 'true' }), 400);
      expect(err.outcome.issue.map((i) => i.expression)).toEqual([['_count']]);
      expect(seen).toHaveLength(1);
    });

    it('sends <reference>:identifier as the <reference>-identifier parameter, unless the server has the modifier', async () => {
      const ods = 'https://fhir.nhs.uk/Id/ods-organization-code|RM1';
      const { fetch, seen } = fakeFetch(json(200, searchset([])), json(201, storedTask()), json(200, searchset([])));
      const store = new HttpStore({ baseUrl: BASE, fetch });
      await store.search('Task', { 'owner:identifier': ods, status: 'requested' });
      expect(new URL(seen[0]?.url as string).searchParams.get('owner-identifier')).toBe(ods);
      await store.create<Task>(
        { resourceType: 'Task', status: 'requested', intent: 'order' },
        { ifNoneExist: `requester:identifier=${ods}` },
      );
      expect(seen[1]?.headers['if-none-exist']).toBe(new URLSearchParams({ 'requester-identifier': ods }).toString());
      const native = new HttpStore({ baseUrl: BASE, fetch, referenceIdentifiers: 'native' });
      await native.search('Task', { 'owner:identifier': ods });
      expect(new URL(seen[2]?.url as string).searchParams.get('owner:identifier')).toBe(ods);
    });

    it("writes a transaction entry's ifNoneExist with <reference>-identifier too, leaving other entries alone", async () => {
      const ods = 'https://fhir.nhs.uk/Id/ods-organization-code|RM1';
      const { fetch, seen } = fakeFetch(json(200, { resourceType: 'Bundle', type: 'transaction-response', entry: [] }));
      const store = new HttpStore({ baseUrl: BASE, fetch });
      const task: Task = { resourceType: 'Task', status: 'requested', intent: 'order' };
      await store.transaction({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: task,
            request: { method: 'POST', url: 'Task', ifNoneExist: `owner:identifier=${ods}&status=requested` },
          },
          { resource: task, request: { method: 'POST', url: 'Task' } },
        ],
      });
      const sent = seen[0]?.body as { entry: { request: { ifNoneExist?: string } }[] };
      expect(new URLSearchParams(sent.entry[0]?.request.ifNoneExist)).toEqual(
        new URLSearchParams({ 'owner-identifier': ods, status: 'requested' }),
      );
      expect(sent.entry[1]?.request.ifNoneExist).toBeUndefined();
    });

    it('nextPage follows a next link on the same origin, with no-cache', async () => {
      const next = `${BASE}?_getpages=abc&_getpagesoffset=1`;
      const { fetch, seen } = fakeFetch(json(200, searchset([{ resource: storedTask() }])));
      const store = new HttpStore({ baseUrl: BASE, fetch });
      const page = await store.nextPage<Task>(next);
      expect(page.resources).toEqual([storedTask()]);
      expect(page.next).toBeUndefined();
      expect(seen[0]).toMatchObject({ url: next, headers: { 'cache-control': 'no-cache' } });
    });

    it('history follows its pages, drops deletions and lists newest first', async () => {
      const { fetch, seen } = fakeFetch(
        json(200, {
          resourceType: 'Bundle',
          type: 'history',
          link: [{ relation: 'next', url: `${BASE}?_getpages=h&_getpagesoffset=2` }],
          entry: [{ request: { method: 'DELETE', url: 'Task/t1' } }, { resource: storedTask('2') }],
        }),
        json(200, { resourceType: 'Bundle', type: 'history', entry: [{ resource: storedTask('1') }] }),
      );
      const store = new HttpStore({ baseUrl: BASE, fetch });
      const versions = await store.history<Task>('Task', 't1');
      expect(versions.map((v) => v.meta?.versionId)).toEqual(['2', '1']);
      expect(seen.map((s) => s.url)).toEqual([`${BASE}/Task/t1/_history`, `${BASE}?_getpages=h&_getpagesoffset=2`]);
    });

    it('posts a transaction to the base and makes absolute locations relative', async () => {
      const response: Bundle = {
        resourceType: 'Bundle',
        type: 'transaction-response',
        entry: [
          { response: { status: '201 Created', location: `${BASE}/Task/t1/_history/1` } },
          { response: { status: '200 OK', location: 'Patient/p1/_history/3' } },
        ],
      };
      const { fetch, seen } = fakeFetch(json(200, response));
      const store = new HttpStore({ baseUrl: BASE, fetch });
      const result = await store.transaction({ resourceType: 'Bundle', type: 'transaction', entry: [] });
      expect(seen[0]).toMatchObject({ method: 'POST', url: `${BASE}/` });
      expect(result.entry?.map((e) => e.response?.location)).toEqual(['Task/t1/_history/1', 'Patient/p1/_history/3']);
    });
  });

  describe('errors', () => {
    // What HAPI puts in its error bodies, none of which may reach a client of the port.
    const HAPI_WORDS = [
      'HAPI-',
      'ca.uhn.fhir',
      'InvalidRequestException',
      'partition',
      'organisation-access',
      '_security',
      'fhir.test',
      '8080',
      '/fhir/north',
    ];
    const hapiOutcome = outcome(
      'processing',
      'HAPI-0302: ca.uhn.fhir.rest.server.exceptions.InvalidRequestException: Unknown search parameter "colour" ' +
        'for resource type "Task" in partition north; query was _security=https://imaging-connect.example/fhir/' +
        `CodeSystem/organisation-access|N81001 on ${BASE}/Task`,
    );

    it.each([
      [400, 400, 'bad-request', 'invalid'],
      [401, 502, 'bad-gateway', 'transient'],
      [403, 502, 'bad-gateway', 'transient'],
      [404, 404, 'not-found', 'not-found'],
      [409, 409, 'conflict', 'conflict'],
      [410, 410, 'gone', 'deleted'],
      [412, 412, 'precondition-failed', 'conflict'],
      [418, 502, 'bad-gateway', 'transient'],
      [422, 422, 'unprocessable', 'processing'],
      [429, 503, 'unavailable', 'transient'],
      [500, 502, 'bad-gateway', 'transient'],
      [502, 503, 'unavailable', 'transient'],
      [503, 503, 'unavailable', 'transient'],
      [504, 503, 'unavailable', 'transient'],
    ])(
      "answers HAPI's %i with its own %i outcome; HAPI's words are kept for the logs only",
      async (status, ours, kind, code) => {
        const { fetch } = fakeFetch(json(status, hapiOutcome));
        const err = await expectOutcome(new HttpStore({ baseUrl: BASE, fetch }).read('Task', 'x'), ours);
        expect(err.outcome.id).toBe(kind);
        expect(err.outcome.issue.map((i) => i.code)).toEqual([code]);
        const rendered = JSON.stringify(err.outcome);
        for (const word of HAPI_WORDS) expect(rendered).not.toContain(word);
        expect(err.detail).toContain('HAPI-0302');
        expect(err.detail).toContain(`GET ${BASE}/Task/x answered ${status}`);
      },
    );

    it('says "not found" and "deleted" in the words of the embedded store', async () => {
      const { fetch } = fakeFetch(json(404, hapiOutcome), json(410, hapiOutcome));
      const store = new HttpStore({ baseUrl: BASE, fetch });
      const embedded = new SqliteStore({ path: ':memory:' });
      const created = await embedded.create<Task>({ resourceType: 'Task', status: 'requested', intent: 'order' });
      await embedded.delete('Task', created.resource.id);
      expect((await expectOutcome(store.read('Task', 'x'), 404)).outcome).toEqual(
        (await expectOutcome(embedded.read('Task', 'x'), 404)).outcome,
      );
      const gone = (await expectOutcome(store.read('Task', created.resource.id), 410)).outcome;
      expect(gone).toEqual((await expectOutcome(embedded.read('Task', created.resource.id), 410)).outcome);
      await embedded.close();
    });

    it('a search HAPI refuses is a 400 of ours, with nothing of the query it ran', async () => {
      const { fetch } = fakeFetch(json(400, hapiOutcome));
      const store = new HttpStore({ baseUrl: BASE, fetch });
      const err = await expectOutcome(store.search('Task', { colour: 'blue', _security: 'x|N81001' }), 400);
      for (const word of [...HAPI_WORDS, 'colour', 'N81001']) expect(JSON.stringify(err.outcome)).not.toContain(word);
      expect(err.detail).toContain(`GET ${BASE}/Task answered 400`);
      expect(err.detail).not.toContain('colour=blue'); // queries can carry NHS numbers: not even in the logs
    });

    it('a 412 to a conditional create is several matches; to a versioned update, a changed version', async () => {
      const { fetch } = fakeFetch(json(412, hapiOutcome), json(412, hapiOutcome));
      const store = new HttpStore({ baseUrl: BASE, fetch });
      const task: Task = { resourceType: 'Task', status: 'requested', intent: 'order' };
      const several = await expectOutcome(store.create(task, { ifNoneExist: 'identifier=a|b' }), 412);
      expect(several.outcome.issue[0]?.code).toBe('multiple-matches');
      const changed = await expectOutcome(store.update(storedTask(), { ifMatch: '1' }), 412);
      expect(changed.outcome.issue[0]?.code).toBe('conflict');
    });

    it('an error without an OperationOutcome gets one of ours, with nothing of the body', async () => {
      const { fetch } = fakeFetch(
        new Response('<html>java.lang.NullPointerException at ca.uhn.fhir.jpa.Foo</html>', {
          status: 500,
          headers: { 'Content-Type': 'text/html' },
        }),
        json(400, { error: 'not fhir' }),
      );
      const store = new HttpStore({ baseUrl: BASE, fetch });
      const err = await expectOutcome(store.read('Task', 'x'), 502);
      expect(JSON.stringify(err.outcome)).not.toMatch(/NullPointer|java|ca\.uhn/);
      expect(err.detail).toContain('NullPointerException');
      const bad = await expectOutcome(store.search('Task', { status: 'x' }), 400);
      expect(bad.outcome.id).toBe('bad-request');
    });

    it('a 2xx with a body that is not JSON, or not the resource asked for, is 502', async () => {
      const { fetch } = fakeFetch(
        new Response('<html>proxy</html>', { status: 200 }),
        json(200, { resourceType: 'Patient', id: 't1' }),
        json(200, storedTask()),
        json(200, { resourceType: 'Bundle', type: 'searchset' }),
      );
      const store = new HttpStore({ baseUrl: BASE, fetch });
      await expectOutcome(store.read('Task', 't1'), 502);
      await expectOutcome(store.read('Task', 't1'), 502);
      await expectOutcome(store.search('Task'), 502); // a Task where a Bundle was due
      await expectOutcome(store.transaction({ resourceType: 'Bundle', type: 'transaction', entry: [] }), 502);
    });

    it("HAPI's 409 to a stale If-Match becomes 412; a 409 without If-Match stays 409", async () => {
      const remote = outcome(
        'processing',
        'HAPI-0989: Trying to update Task/t1/_history/1 but this is not the current version',
      );
      const { fetch } = fakeFetch(json(409, remote), json(409, outcome('processing', 'referenced')), json(409, remote));
      const store = new HttpStore({ baseUrl: BASE, fetch });
      const stale = await expectOutcome(store.update(storedTask(), { ifMatch: '1' }), 412);
      expect(stale.outcome.id).toBe('precondition-failed');
      expect(stale.outcome.issue[0]?.details?.text).toBe('Task/t1 has changed since it was read: read it again');
      await expectOutcome(store.update(storedTask()), 409);
      const inBundle = store.transaction({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [{ resource: storedTask(), request: { method: 'PUT', url: 'Task/t1', ifMatch: 'W/"1"' } }],
      });
      await expectOutcome(inBundle, 412);
    });

    it('deleting what is not there (404 or 410) is not an error, but a refusal is', async () => {
      const { fetch } = fakeFetch(
        json(404, outcome('not-found', 'x')),
        json(410, outcome('deleted', 'x')),
        new Response(null, { status: 204 }),
        json(409, outcome('processing', 'referenced by Task/t2')),
      );
      const store = new HttpStore({ baseUrl: BASE, fetch });
      await store.delete('Task', 'a');
      await store.delete('Task', 'b');
      await store.delete('Task', 'c');
      await expectOutcome(store.delete('Task', 'd'), 409);
    });

    it('no answer (refused, reset) is 503 unavailable', async () => {
      const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
      const { fetch } = fakeFetch(() => Promise.reject(refused));
      const store = new HttpStore({ baseUrl: BASE, fetch });
      const err = await expectOutcome(store.read('Task', 't1'), 503);
      expect(err.outcome.id).toBe('unavailable');
      expect(err.message).toContain('ECONNREFUSED');
      expect(JSON.stringify(err.outcome)).not.toMatch(/ECONNREFUSED|fhir\.test|north/);
    });

    it('a server that does not answer within timeoutMs is 503 unavailable', async () => {
      const hang = (_request: Seen, signal: AbortSignal | undefined): Promise<Response> =>
        new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason)));
      const { fetch } = fakeFetch(hang);
      const store = new HttpStore({ baseUrl: BASE, fetch, timeoutMs: 20 });
      const err = await expectOutcome(store.read('Task', 't1'), 503);
      expect(err.message).toContain('no answer within 20 ms');
    });

    it('a redirect is not followed: 502', async () => {
      const { fetch, seen } = fakeFetch(
        new Response(null, { status: 302, headers: { Location: 'http://elsewhere.test/' } }),
      );
      const store = new HttpStore({ baseUrl: BASE, fetch });
      await expectOutcome(store.read('Task', 't1'), 502);
      expect(seen).toHaveLength(1);
    });

    it('never follows a next link to another origin: 502 from search, 400 from nextPage, and no request', async () => {
      const { fetch, seen } = fakeFetch(json(200, searchset([], 'http://evil.test/fhir?_getpages=abc')));
      const store = new HttpStore({ baseUrl: BASE, fetch, headers: () => ({ Authorization: 'Bearer secret' }) });
      const err = await expectOutcome(store.search('Task'), 502);
      expect(JSON.stringify(err.outcome)).not.toContain('evil.test');
      await expectOutcome(store.nextPage('http://evil.test/fhir?_getpages=abc'), 400);
      await expectOutcome(store.nextPage('https://fhir.test:8080/fhir/north?_getpages=abc'), 400); // other scheme
      await expectOutcome(store.nextPage('http://fhir.test:8081/fhir/north?_getpages=abc'), 400); // other port
      expect(seen).toHaveLength(1);
    });

    it('refuses ids and types that would change the path, without a request', async () => {
      const { fetch, seen } = fakeFetch();
      const store = new HttpStore({ baseUrl: BASE, fetch });
      await expectOutcome(store.read('Task', '../Patient/1'), 400);
      await expectOutcome(store.read('Task', '..'), 400);
      await expectOutcome(store.read('task/../x' as 'Task', '1'), 400);
      await expectOutcome(store.update({ ...storedTask(), id: 'a?b=c' }), 400);
      await expectOutcome(store.delete('Task', ''), 400);
      await expectOutcome(store.search('Task/1' as 'Task'), 400);
      await expectOutcome(store.transaction({ resourceType: 'Bundle', type: 'batch' }), 400);
      expect(seen).toHaveLength(0);
    });

    it('refuses paging parameters out of bounds (HAPI answers _offset=-1 with 500), without a request', async () => {
      const { fetch, seen } = fakeFetch();
      const store = new HttpStore({ baseUrl: BASE, fetch });
      await expectOutcome(store.search('Task', { _offset: '-1' }), 400);
      await expectOutcome(store.search('Task', { _count: '1e3' }), 400);
      expect(seen).toHaveLength(0);
    });

    it('refuses a base URL that is not http(s) or carries a query', () => {
      expect(() => new HttpStore({ baseUrl: 'not a url' })).toThrow(TypeError);
      expect(() => new HttpStore({ baseUrl: 'file:///etc/fhir' })).toThrow(TypeError);
      expect(() => new HttpStore({ baseUrl: `${BASE}?tenant=x` })).toThrow(TypeError);
    });
  });
});
