import { forbidden, memoryLogger, notFound, OutcomeError, unauthorized } from '@imaging/fhir';
import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFhirApp } from './app.ts';
import type { BatchOptions } from './batch.ts';
import { DEFAULT_MAX_BATCH_ENTRIES, entryTarget, mountBatch } from './batch.ts';
import type { RequestVars } from './request-context.ts';
import { fhirResponse } from './responses.ts';

const TOKEN = 'Bearer good';
const PATIENT: Patient = {
  resourceType: 'Patient',
  id: 'p1',
  meta: { versionId: '3', lastUpdated: '2026-12-03T01:02:03.000Z' },
};

/**
 * A small FHIR app as the services build theirs: a token check on everything under /fhir, a read, a
 * search that echoes the trace ids it was sent, a write, and the batch. `seen` records every request that
 * reached a route, `writes` every write.
 */
function testApp(admit?: BatchOptions<{ Variables: RequestVars }>['admit']) {
  const app = createFhirApp<{ Variables: RequestVars }>({ logger: memoryLogger() });
  const seen: string[] = [];
  let writes = 0;
  app.use('/fhir/*', async (c, next) => {
    if (c.req.header('Authorization') !== TOKEN) throw new OutcomeError(unauthorized('No valid token'));
    await next();
  });
  mountBatch(app, admit ? { admit } : {});
  app.get('/fhir/Patient/:id', (c) => {
    seen.push(c.req.path);
    if (c.req.param('id') === 'secret') throw new OutcomeError(forbidden('Not yours'));
    if (c.req.param('id') !== 'p1') throw new OutcomeError(notFound(`Patient/${c.req.param('id')}`));
    return fhirResponse(PATIENT);
  });
  app.get('/fhir/Task', (c) => {
    seen.push(c.req.url);
    const ids = [c.get('requestId'), c.get('correlationId')];
    return fhirResponse({ resourceType: 'Bundle', type: 'searchset', total: 0, id: ids.join(' ') } as Bundle);
  });
  app.post('/fhir/Patient', () => {
    writes++;
    return fhirResponse(PATIENT, 201);
  });
  app.get('/admin', (c) => {
    seen.push(c.req.path);
    return c.text('admin');
  });
  return { app, seen, writes: () => writes };
}

function batch(app: ReturnType<typeof testApp>['app'], body: unknown, headers: Record<string, string> = {}) {
  return app.request('/fhir', {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'Content-Type': 'application/fhir+json', Authorization: TOKEN, ...headers },
  });
}

const of = (...requests: { method: string; url: string }[]): Bundle => ({
  resourceType: 'Bundle',
  type: 'batch',
  entry: requests.map((request) => ({ request }) as never),
});
const get = (url: string) => ({ method: 'GET', url });

async function answered(res: Response): Promise<Bundle> {
  expect(res.status).toBe(200);
  const body = (await res.json()) as Bundle;
  expect(body).toMatchObject({ resourceType: 'Bundle', type: 'batch-response' });
  return body;
}

async function refusedWith(res: Response, status: number): Promise<OperationOutcome['issue'][number]> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as OperationOutcome;
  expect(body.resourceType).toBe('OperationOutcome');
  return body.issue[0] as OperationOutcome['issue'][number];
}

describe('a batch of reads at the FHIR base', () => {
  it('answers each entry in order, as it would be answered alone', async () => {
    const { app } = testApp();
    const body = await answered(
      await batch(app, of(get('Patient/p1'), get('Patient/nope'), get('Task?status=requested'))),
    );
    expect(body.entry).toHaveLength(3);
    expect(body.entry?.[0]).toEqual({
      resource: PATIENT,
      response: { status: '200 OK', etag: 'W/"3"', lastModified: '2026-12-03T01:02:03.000Z' },
    });
    expect(body.entry?.[1]?.resource).toBeUndefined();
    expect(body.entry?.[1]?.response).toMatchObject({
      status: '404 Not Found',
      outcome: { resourceType: 'OperationOutcome', issue: [{ code: 'not-found' }] },
    });
    expect(body.entry?.[2]).toMatchObject({ resource: { type: 'searchset' }, response: { status: '200 OK' } });
  });

  it('is served at /fhir and /fhir/, and takes a url with or without a leading slash', async () => {
    const { app } = testApp();
    for (const path of ['/fhir', '/fhir/']) {
      const res = await app.request(path, {
        method: 'POST',
        body: JSON.stringify(of(get('/Patient/p1'))),
        headers: { 'Content-Type': 'application/fhir+json', Authorization: TOKEN },
      });
      expect((await answered(res)).entry?.[0]?.response?.status).toBe('200 OK');
    }
  });

  it('sends each entry with the caller token: an entry refused alone is refused in the batch', async () => {
    const { app } = testApp();
    const body = await answered(await batch(app, of(get('Patient/secret'), get('Patient/p1'))));
    expect(body.entry?.[0]?.response).toMatchObject({
      status: '403 Forbidden',
      outcome: { issue: [{ code: 'forbidden' }] },
    });
    expect(body.entry?.[1]?.response?.status).toBe('200 OK');
  });

  it('refuses a caller with no valid token before any entry runs', async () => {
    const { app, seen } = testApp();
    const res = await batch(app, of(get('Patient/p1')), { Authorization: 'Bearer forged' });
    expect((await refusedWith(res, 401)).code).toBe('login');
    expect(seen).toEqual([]);
  });

  it('refuses the whole batch, before any entry runs, a caller the service admits nowhere', async () => {
    const { app, seen } = testApp(() => {
      throw new OutcomeError(forbidden('Use the gateway of your own region'));
    });
    const issue = await refusedWith(await batch(app, of(get('Patient/p1'))), 403);
    expect(issue.diagnostics).toBe('Use the gateway of your own region');
    expect(seen).toEqual([]);
  });

  it('numbers the batch request id for its entries and keeps the correlation id', async () => {
    const { app } = testApp();
    const res = await batch(app, of(get('Task?a=1'), get('Task?a=2')), {
      'X-Request-ID': 'batch-7',
      'X-Correlation-ID': 'case-42',
    });
    const body = await answered(res);
    expect(body.entry?.map((e) => e.resource?.id)).toEqual(['batch-7.1 case-42', 'batch-7.2 case-42']);
  });

  it('answers a write in a batch 405 on its own, and writes nothing', async () => {
    const { app, writes } = testApp();
    const body = await answered(
      await batch(
        app,
        of({ method: 'POST', url: 'Patient' }, { method: 'DELETE', url: 'Patient/p1' }, get('Patient/p1')),
      ),
    );
    for (const entry of body.entry?.slice(0, 2) ?? []) {
      expect(entry.response).toMatchObject({
        status: '405 Method Not Allowed',
        outcome: { issue: [{ code: 'not-supported', diagnostics: expect.stringMatching(/reads \(GET\) only/) }] },
      });
    }
    expect(body.entry?.[2]?.response?.status).toBe('200 OK');
    expect(writes()).toBe(0);
  });

  it.each([
    '$learning-report?organization=N81001&quarter=2000-Q1',
    '%24case-trail?correlation-id=x',
    'Patient/p1/$validate',
  ])('answers an operation (%s) 400 on its own, and sends nothing: one a request', async (url) => {
    const { app, seen } = testApp();
    const body = await answered(await batch(app, of(get(url), get('Patient/p1'))));
    expect(body.entry?.[0]?.response).toMatchObject({
      status: '400 Bad Request',
      outcome: {
        issue: [
          {
            code: 'not-supported',
            expression: ['Bundle.entry[0].request.url'],
            diagnostics: expect.stringMatching(/not operations: send GET \$[a-z-]+ on its own/),
          },
        ],
      },
    });
    expect(body.entry?.[1]?.response?.status).toBe('200 OK');
    expect(seen).toEqual(['/fhir/Patient/p1']);
  });

  it.each([
    ['an absolute url', 'http://elsewhere.example/fhir/Patient/p1', /relative to this server's FHIR base/],
    ['another scheme', 'file:///etc/passwd', /relative to this server's FHIR base/],
    ['a network-path url', '//elsewhere.example/Patient/p1', /does not name/],
    ['nothing', '', /does not name/],
    ['the base itself', '/', /does not name/],
    ['a step out', '../admin', /step out/],
    ['an encoded step out', '%2e%2e/admin', /step out/],
    ['a half-encoded step out', 'Patient/.%2E/../admin', /step out/],
    ['a step out hidden by a tab', '.\t./admin', /percent-encode/],
    ['a backslash', '..\\admin', /percent-encode/],
    ['a space', 'Patient?name=A B', /percent-encode/],
  ])('answers an entry whose url is %s 400 on its own, and sends nothing', async (_what, url, text) => {
    const { app, seen } = testApp();
    const body = await answered(await batch(app, of(get(url))));
    expect(body.entry?.[0]?.response).toMatchObject({
      status: '400 Bad Request',
      outcome: {
        issue: [
          { code: 'invalid', expression: ['Bundle.entry[0].request.url'], diagnostics: expect.stringMatching(text) },
        ],
      },
    });
    expect(seen).toEqual([]);
  });

  it('never sends an entry outside the FHIR base, whatever its url (property)', async () => {
    const { app, seen } = testApp();
    const part = fc.constantFrom(
      '..',
      '.',
      '%2e',
      '%2E',
      '/',
      '\\',
      '\t',
      '\n',
      '?',
      '#',
      ':',
      'http:',
      'admin',
      'Patient',
      'p1',
      '//',
      '%2f',
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(part, fc.string({ maxLength: 4 })), { maxLength: 8 }), async (parts) => {
        const url = parts.join('');
        const sent = entryTarget(url, 'http://localhost/fhir');
        if ('target' in sent) {
          expect(sent.target.origin).toBe('http://localhost');
          expect(sent.target.pathname.startsWith('/fhir/')).toBe(true);
        }
        await batch(app, of(get(url)));
        expect(seen.every((path) => !path.startsWith('/admin'))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  describe('a Bundle that is not a batch this server takes is refused whole, and nothing runs', () => {
    it.each([
      [
        'a transaction',
        { resourceType: 'Bundle', type: 'transaction', entry: [{ request: get('Patient/p1') }] },
        400,
        /Transactions are not taken/,
        'not-supported',
      ],
      ['a message', { resourceType: 'Bundle', type: 'message' }, 400, /\$process-message/, 'invalid'],
      ['a collection', { resourceType: 'Bundle', type: 'collection' }, 400, /Only a Bundle of type batch/, 'invalid'],
      ['not a Bundle', { resourceType: 'Patient' }, 400, /Expected a Bundle/, 'invalid'],
      [
        'entries that are not a list',
        { resourceType: 'Bundle', type: 'batch', entry: {} },
        400,
        /must be a list/,
        'invalid',
      ],
      [
        'an entry with no request',
        { resourceType: 'Bundle', type: 'batch', entry: [{ request: get('Patient/p1') }, {}] },
        400,
        /needs a request/,
        'invalid',
      ],
      [
        'an entry with no url',
        { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET' } }] },
        400,
        /a method and a url/,
        'invalid',
      ],
      ['a null entry', { resourceType: 'Bundle', type: 'batch', entry: [null] }, 400, /needs a request/, 'invalid'],
      [
        'more entries than allowed',
        of(...Array.from({ length: DEFAULT_MAX_BATCH_ENTRIES + 1 }, () => get('Patient/p1'))),
        400,
        /at most 100 entries, not 101/,
        'too-costly',
      ],
    ])('%s', async (_what, body, status, text, code) => {
      const { app, seen } = testApp();
      const issue = await refusedWith(await batch(app, body), status);
      expect(issue).toMatchObject({ code, diagnostics: expect.stringMatching(text) });
      expect(seen).toEqual([]);
    });

    it('malformed JSON, or a body that is not FHIR JSON', async () => {
      const { app, seen } = testApp();
      expect((await refusedWith(await batch(app, '{"resourceType":'), 400)).diagnostics).toMatch(/Malformed JSON/);
      const xml = await batch(app, '<Bundle/>', { 'Content-Type': 'application/fhir+xml' });
      expect((await refusedWith(xml, 415)).code).toBe('not-supported');
      expect(seen).toEqual([]);
    });
  });

  it('takes a batch of the largest size, and an empty one', async () => {
    const { app } = testApp();
    const full = await answered(
      await batch(app, of(...Array.from({ length: DEFAULT_MAX_BATCH_ENTRIES }, () => get('Patient/p1')))),
    );
    expect(full.entry).toHaveLength(DEFAULT_MAX_BATCH_ENTRIES);
    // No entries is no entry element: FHIR JSON has no empty arrays.
    expect(await answered(await batch(app, { resourceType: 'Bundle', type: 'batch' }))).not.toHaveProperty('entry');
  });
});
