import { gzipSync } from 'node:zlib';
import { OutcomeError, unprocessable } from '@imaging/fhir';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { createFhirApp } from './app.ts';
import { ifMatchVersion, readResource } from './body.ts';
import { checkOperationsAsDeclared, unsupportedInteraction } from './errors.ts';
import { memoryLogger } from '@imaging/fhir';
import type { RequestVars } from './request-context.ts';
import { fhirResponse } from './responses.ts';

function testApp() {
  const logger = memoryLogger();
  const app = createFhirApp<{ Variables: RequestVars }>({ logger, bodyLimitBytes: 200 });
  app.post('/fhir/Patient', async (c) => fhirResponse(await readResource(c, 'Patient'), 201));
  app.put('/fhir/Task/:id', async (c) => c.json({ version: ifMatchVersion(c) ?? null }));
  app.get('/rule', () => {
    throw new OutcomeError(unprocessable('Illegal transition', 'Task.status'));
  });
  app.get('/bug', () => {
    throw new TypeError('secret internals at /srv/app.ts:12');
  });
  app.get('/ids', (c) => c.json({ requestId: c.get('requestId'), correlationId: c.get('correlationId') }));
  app.get('/minted', (c) => c.json(c.get('correlationMinted')));
  return { app, logger };
}

const post = (app: ReturnType<typeof testApp>['app'], body: string, type = 'application/fhir+json') =>
  app.request('/fhir/Patient', { method: 'POST', body, headers: { 'Content-Type': type } });

async function outcome(res: Response): Promise<OperationOutcome> {
  expect(res.headers.get('Content-Type')).toContain('application/fhir+json');
  const body = (await res.json()) as OperationOutcome;
  expect(body.resourceType).toBe('OperationOutcome');
  return body;
}

describe('createFhirApp', () => {
  it('accepts a well-formed resource', async () => {
    const res = await post(testApp().app, '{"resourceType":"Patient"}');
    expect(res.status).toBe(201);
  });

  it('answers malformed JSON with 400', async () => {
    const res = await post(testApp().app, '{"resourceType":');
    expect(res.status).toBe(400);
    expect((await outcome(res)).issue[0]?.details?.text).toMatch(/^Malformed JSON/);
  });

  it("takes each FHIR JSON media type, DSTU2's application/json+fhir included, as _format does", async () => {
    for (const type of ['application/fhir+json', 'application/json', 'application/json+fhir; charset=utf-8'])
      expect((await post(testApp().app, '{"resourceType":"Patient"}', type)).status, type).toBe(201);
  });

  it('answers a compressed body with 415 saying so, not as malformed JSON', async () => {
    const { app } = testApp();
    const res = await app.request('/fhir/Patient', {
      method: 'POST',
      body: new Uint8Array(gzipSync('{"resourceType":"Patient"}')),
      headers: { 'Content-Type': 'application/fhir+json', 'Content-Encoding': 'gzip' },
    });
    expect(res.status).toBe(415);
    expect((await outcome(res)).issue[0]?.details?.text).toBe(
      "Content-Encoding 'gzip' is not taken: send the body uncompressed",
    );
    const identity = await app.request('/fhir/Patient', {
      method: 'POST',
      body: '{"resourceType":"Patient"}',
      headers: { 'Content-Type': 'application/fhir+json', 'Content-Encoding': 'identity' },
    });
    expect(identity.status).toBe(201);
  });

  it('answers a non-JSON media type with 415', async () => {
    const res = await post(testApp().app, '<Patient/>', 'application/fhir+xml');
    expect(res.status).toBe(415);
    await outcome(res);
  });

  it('answers a client that accepts no JSON with 406 before its body is read', async () => {
    const { app } = testApp();
    let handled = false;
    app.post('/fhir/Observation', (c) => {
      handled = true;
      return c.body(null, 201);
    });
    const res = await app.request('/fhir/Observation', {
      method: 'POST',
      body: '{"resourceType":"Observation"}',
      headers: { 'Content-Type': 'application/fhir+json', Accept: 'application/fhir+xml' },
    });
    expect(res.status).toBe(406);
    expect((await outcome(res)).issue[0]?.details?.text).toContain("Accept: 'application/fhir+xml'");
    expect(handled).toBe(false);
  });

  it('quotes a long Accept header cut short, never a page of echo', async () => {
    const accept = `application/${'x'.repeat(500)}`;
    const res = await testApp().app.request('/fhir/Observation/1', { headers: { Accept: accept } });
    expect(res.status).toBe(406);
    const text = (await outcome(res)).issue[0]?.details?.text ?? '';
    expect(text).toContain(`${accept.slice(0, 120)}…'`);
    expect(text).not.toContain(accept.slice(0, 121));
  });

  it('lets _format=json override an Accept that admits no JSON, as FHIR says _format does', async () => {
    const { app } = testApp();
    app.get('/fhir/Observation/1', (c) => c.json({ resourceType: 'Observation' }));
    const res = await app.request('/fhir/Observation/1?_format=json', { headers: { Accept: 'application/fhir+xml' } });
    expect(res.status).toBe(200);
  });

  it('answers a _format other than JSON with 400 at _format, whatever the route', async () => {
    const { app } = testApp();
    app.get('/fhir/Observation/1', (c) => c.json({ resourceType: 'Observation' }));
    const res = await app.request('/fhir/Observation/1?_format=xml');
    expect(res.status).toBe(400);
    expect((await outcome(res)).issue[0]?.expression).toEqual(['_format']);
  });

  it('leaves paths outside the FHIR base, and those that negotiate their own formats, to their handlers', async () => {
    const logger = memoryLogger();
    const app = createFhirApp({ logger, ownFormats: ['/fhir/$report'] });
    app.get('/fhir/$report', (c) => c.text('a,b', 200, { 'Content-Type': 'text/csv' }));
    app.get('/page', (c) => c.html('<p>hi</p>'));
    for (const path of ['/fhir/$report', '/page'])
      expect((await app.request(path, { headers: { Accept: 'text/csv, text/html' } })).status).toBe(200);
  });

  it.each([
    ['[]', 'The body must be a FHIR resource (a JSON object)'],
    ['{"name":"x"}', 'The body has no resourceType'],
    ['{"resourceType":"Task"}', 'Expected a Patient, not a Task'],
  ])('answers %s with 400', async (body, text) => {
    const res = await post(testApp().app, body);
    expect(res.status).toBe(400);
    expect((await outcome(res)).issue[0]?.details?.text).toBe(text);
  });

  it('answers an oversized body with 413', async () => {
    const res = await post(testApp().app, JSON.stringify({ resourceType: 'Patient', text: 'x'.repeat(500) }));
    expect(res.status).toBe(413);
    expect((await outcome(res)).issue[0]?.code).toBe('too-long');
  });

  it('renders an OutcomeError with its own status', async () => {
    const res = await testApp().app.request('/rule');
    expect(res.status).toBe(422);
    expect((await outcome(res)).issue[0]?.expression).toEqual(['Task.status']);
  });

  it('turns a bug into a bare 500 and logs the stack', async () => {
    const { app, logger } = testApp();
    const res = await app.request('/bug');
    expect(res.status).toBe(500);
    const text = JSON.stringify(await outcome(res));
    expect(text).not.toContain('secret internals');
    expect(logger.entries.find((e) => e.level === 'error')?.error).toContain('secret internals');
  });

  it('answers an unknown route with a FHIR 404', async () => {
    const res = await testApp().app.request('/fhir/Nope');
    expect(res.status).toBe(404);
    expect((await outcome(res)).issue[0]?.code).toBe('not-found');
  });

  it('names a type it does not serve, and answers a POST to the base of an app with no batch as not found', async () => {
    const { app } = testApp();
    app.all('/fhir/:type', unsupportedInteraction([{ type: 'Patient', interactions: ['read', 'create'] }]));
    const res = await app.request('/fhir', { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect((await outcome(res)).issue[0]?.details?.text).toBe('Nothing is served at POST /fhir');
    const type = await app.request('/fhir/Observation');
    expect((await outcome(type)).issue[0]?.details?.text).toBe('This server does not serve Observation resources');
  });

  describe('an operation invoked otherwise than declared', () => {
    function withOperations() {
      const { app } = testApp();
      const served = [
        { type: 'Patient' as const, operations: [{ name: 'validate', definition: 'v' }] },
        {
          type: 'Task' as const,
          operations: [{ name: 'acknowledge', definition: 'a', levels: ['instance'] as const }],
        },
        {
          type: 'ValueSet' as const,
          operations: [
            { name: 'expand', definition: 'e', methods: ['GET'] as const, levels: ['type', 'instance'] as const },
          ],
        },
      ];
      const atBase = [
        { name: 'case-trail', definition: 'c', methods: ['GET'] as const },
        { name: 'process-message', definition: 'p' },
      ];
      checkOperationsAsDeclared(app, served, atBase);
      // The routes that serve them as declared, and a read that would take `$validate` for an id.
      app.post('/fhir/Patient/$validate', (c) => c.json({ served: 'validate' }));
      app.post('/fhir/Task/:id/$acknowledge', (c) => c.json({ served: 'acknowledge' }));
      app.get('/fhir/ValueSet/:id/$expand', (c) => c.json({ served: 'expand' }));
      app.get('/fhir/$case-trail', (c) => c.json({ served: 'case-trail' }));
      app.post('/fhir/$process-message', (c) => c.json({ served: 'process-message' }));
      app.get('/fhir/:type/:id', () => {
        throw new OutcomeError(unprocessable('read as an id', 'id'));
      });
      return app;
    }

    it.each([
      ['POST', '/fhir/Patient/$validate', 'validate'],
      ['POST', '/fhir/Task/t1/$acknowledge', 'acknowledge'],
      ['GET', '/fhir/ValueSet/v1/$expand', 'expand'],
      ['GET', '/fhir/$case-trail?correlation-id=x', 'case-trail'],
      ['POST', '/fhir/$process-message', 'process-message'],
    ])('lets %s %s through to its route', async (method, path, served) => {
      const res = await withOperations().request(path, { method });
      expect(await res.json()).toEqual({ served });
    });

    it.each([
      ['GET', '/fhir/Patient/$validate', 'POST', '$validate is invoked with POST, not GET'],
      ['POST', '/fhir/ValueSet/v1/$expand', 'GET', '$expand is invoked with GET, not POST'],
      ['POST', '/fhir/$case-trail', 'GET', '$case-trail is invoked with GET, not POST'],
      ['GET', '/fhir/$process-message', 'POST', '$process-message is invoked with POST, not GET'],
    ])('answers %s %s with a 405 whose Allow is %s', async (method, path, allow, text) => {
      const res = await withOperations().request(path, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('Allow')).toBe(allow);
      expect((await outcome(res)).issue[0]?.diagnostics).toBe(text);
    });

    it.each([
      ['POST', '/fhir/Task/$acknowledge', '$acknowledge is invoked at /fhir/Task/<id>/$acknowledge, with POST'],
      ['POST', '/fhir/Patient/p1/$validate', '$validate is invoked at /fhir/Patient/$validate, with POST'],
      ['GET', '/fhir/Patient/$everything', 'This server has no operation $everything on Patient (see /fhir/metadata)'],
      [
        'GET',
        '/fhir/Patient/p1/$everything',
        'This server has no operation $everything on Patient (see /fhir/metadata)',
      ],
      ['POST', '/fhir/$graphql', 'This server has no operation $graphql at its base (see /fhir/metadata)'],
      ['GET', '/fhir/Observation/$lastn', 'This server does not serve Observation resources'],
    ])('answers %s %s with a 404 saying where it is invoked, or that it is not', async (method, path, text) => {
      const res = await withOperations().request(path, { method });
      expect(res.status).toBe(404);
      expect((await outcome(res)).issue[0]).toMatchObject({ code: 'not-supported', diagnostics: text });
    });
  });

  it('parses If-Match and rejects a malformed one', async () => {
    const { app } = testApp();
    const put = (value?: string) =>
      app.request('/fhir/Task/1', { method: 'PUT', headers: value ? { 'If-Match': value } : {} });
    expect(await (await put('W/"3"')).json()).toEqual({ version: '3' });
    expect(await (await put()).json()).toEqual({ version: null });
    const bad = await put('W/"3", W/"4"');
    expect(bad.status).toBe(400);
    expect((await outcome(bad)).issue[0]?.expression).toEqual(['http.If-Match']);
  });
});

describe('request context', () => {
  it('keeps the caller ids, echoes them, and logs them', async () => {
    const { app, logger } = testApp();
    const res = await app.request('/ids', { headers: { 'X-Request-ID': 'req-1', 'X-Correlation-ID': 'case-9' } });
    expect(await res.json()).toEqual({ requestId: 'req-1', correlationId: 'case-9' });
    expect(res.headers.get('X-Correlation-ID')).toBe('case-9');
    expect(logger.entries.at(-1)).toMatchObject({
      message: 'request',
      requestId: 'req-1',
      correlationId: 'case-9',
      status: 200,
    });
  });

  it('makes ids when absent or malformed, the correlation id defaulting to the request id', async () => {
    const res = await testApp().app.request('/ids', { headers: { 'X-Request-ID': 'bad id with spaces' } });
    const ids = (await res.json()) as { requestId: string; correlationId: string };
    expect(ids.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids.correlationId).toBe(ids.requestId);
  });

  // Only a name made up here is new for certain: a client's request id is its case name when it gives no other.
  it.each([
    ['no ids', {}, true],
    ['only malformed ids', { 'X-Request-ID': 'bad id', 'X-Correlation-ID': 'bad id' }, true],
    ['a correlation id', { 'X-Correlation-ID': 'case-9' }, false],
    ['only a request id', { 'X-Request-ID': 'req-1' }, false],
  ])('says whether it made the correlation id up: %s', async (_, headers: Record<string, string>, minted) => {
    expect(await (await testApp().app.request('/minted', { headers })).json()).toBe(minted);
  });
});
