import type { Bundle, OperationOutcome, Task } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { expectOutcome } from '../contract/index.ts';
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
    it("keeps the server's OperationOutcome and status", async () => {
      const remote = outcome('not-found', 'HAPI-2001: Resource Task/x is not known');
      const { fetch } = fakeFetch(
        json(404, remote),
        json(410, outcome('deleted', 'gone')),
        json(422, outcome('processing', 'bad')),
      );
      const store = new HttpStore({ baseUrl: BASE, fetch });
      const err = await expectOutcome(store.read('Task', 'x'), 404);
      expect(err.outcome).toEqual(remote);
      await expectOutcome(store.read('Task', 'x'), 410);
      await expectOutcome(store.create<Task>({ resourceType: 'Task', status: 'requested', intent: 'order' }), 422);
    });

    it('an error without an OperationOutcome gets one of ours with the same status and nothing of the body', async () => {
      const { fetch } = fakeFetch(
        new Response('<html>java.lang.NullPointerException at ...</html>', {
          status: 500,
          headers: { 'Content-Type': 'text/html' },
        }),
        new Response('Forbidden', { status: 403 }),
        json(400, { error: 'not fhir' }),
      );
      const store = new HttpStore({ baseUrl: BASE, fetch });
      const err = await expectOutcome(store.read('Task', 'x'), 500);
      expect(JSON.stringify(err.outcome)).not.toContain('NullPointer');
      expect(err.outcome.issue[0]?.details?.text).toContain('500');
      const forbidden = await expectOutcome(store.read('Task', 'x'), 403);
      expect(forbidden.outcome.id).toBe('forbidden');
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

    it("HAPI's 409 to a stale If-Match becomes 412, keeping its issues; a 409 without If-Match stays 409", async () => {
      const remote = outcome(
        'processing',
        'HAPI-0989: Trying to update Task/t1/_history/1 but this is not the current version',
      );
      const { fetch } = fakeFetch(json(409, remote), json(409, outcome('processing', 'referenced')), json(409, remote));
      const store = new HttpStore({ baseUrl: BASE, fetch });
      const stale = await expectOutcome(store.update(storedTask(), { ifMatch: '1' }), 412);
      expect(stale.outcome.issue).toEqual(remote.issue);
      expect(stale.outcome.id).toBe('precondition-failed');
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
      await expectOutcome(store.search('Task'), 502);
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
