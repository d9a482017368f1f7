import type {
  Bundle,
  CapabilityStatement,
  OperationOutcome,
  Patient,
  Resource,
  ServiceRequest,
  StructureDefinition,
  Task,
  ValueSet,
} from '@medplum/fhirtypes';
import { generateSigningKey } from '@imaging/auth';
import { IMAGING_PROCEDURES, searchAll } from '@imaging/fhir';
import { examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { describe, expect, it } from 'vitest';
import { deliverDue } from './domain/delivery.ts';
import { GP_TOKEN, HUB_TOKEN, RIS_TOKEN, testGateway } from './testing/app.ts';
import { testRegions } from './testing/regions.ts';

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  body: typeof body === 'string' ? body : JSON.stringify(body),
  headers: { 'Content-Type': 'application/fhir+json', ...headers },
});

async function north() {
  const regions = testRegions();
  const gateway = await testGateway(regions.north);
  const gp = await gateway.token(GP_TOKEN);
  const call = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const headers = new Headers(init.headers);
    const token = init.token === undefined ? gp : init.token;
    if (token) headers.set('Authorization', `Bearer ${token}`);
    return gateway.app.request(path, { ...init, headers });
  };
  return { ...regions, ...gateway, gp, call };
}

async function outcome(res: Response): Promise<OperationOutcome> {
  const body = (await res.json()) as OperationOutcome;
  expect(body.resourceType).toBe('OperationOutcome');
  return body;
}

describe('open endpoints', () => {
  it('serves health and the CapabilityStatement without a token', async () => {
    const { call } = await north();
    expect((await call('/health', { token: null })).status).toBe(200);
    const metadata = await call('/fhir/metadata', { token: null });
    expect(metadata.status).toBe(200);
    const statement = (await metadata.json()) as { resourceType: string; rest: { resource: { type: string }[] }[] };
    expect(statement.resourceType).toBe('CapabilityStatement');
    expect(statement.rest[0]?.resource.map((r) => r.type)).toEqual([
      'Patient',
      'ServiceRequest',
      'Task',
      'ImagingStudy',
      'DiagnosticReport',
      'Endpoint',
      'Communication',
      'Flag',
      'AuditEvent',
      'StructureDefinition',
      'ValueSet',
    ]);
  });
});

describe('SMART discovery and the published profiles, open', () => {
  it('serves the SMART configuration at the root and at the FHIR base, naming the token URL the CapabilityStatement names', async () => {
    const { call } = await north();
    const statement = (await (await call('/fhir/metadata', { token: null })).json()) as CapabilityStatement;
    const declared = statement.rest?.[0]?.security?.extension
      ?.find((e) => e.url === 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris')
      ?.extension?.find((e) => e.url === 'token')?.valueUri;
    expect(declared).toBe('http://hub.test/oauth2/token');
    for (const path of ['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration']) {
      const res = await call(path, { token: null });
      expect(res.status, path).toBe(200);
      const smart = (await res.json()) as Record<string, unknown>;
      expect(smart).toMatchObject({
        token_endpoint: declared,
        issuer: 'http://hub.test',
        jwks_uri: 'http://hub.test/.well-known/jwks.json',
        grant_types_supported: ['client_credentials'],
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
      });
      expect(smart.scopes_supported).toEqual(
        expect.arrayContaining(['system/Patient.crs', 'system/Task.rus', 'hub/deliver']),
      );
    }
  });

  it('publishes a StructureDefinition for every profile it declares, and the procedure codes as a ValueSet', async () => {
    const { call } = await north();
    const statement = (await (await call('/fhir/metadata', { token: null })).json()) as CapabilityStatement;
    const profiles = (statement.rest?.[0]?.resource ?? []).flatMap((r) => r.supportedProfile ?? []);
    expect(profiles).toHaveLength(6);
    for (const url of profiles) {
      const found = (await (
        await call(`/fhir/StructureDefinition?url=${encodeURIComponent(url)}`, { token: null })
      ).json()) as Bundle<StructureDefinition>;
      expect(
        found.entry?.map((e) => e.resource?.url),
        url,
      ).toEqual([url]);
      const id = found.entry?.[0]?.resource?.id;
      expect((await call(`/fhir/StructureDefinition/${id}`, { token: null })).status).toBe(200);
    }
    const expanded = (await (
      await call('/fhir/ValueSet/imaging-procedures/$expand', { token: null })
    ).json()) as ValueSet;
    expect(expanded.expansion?.contains?.map((c) => c.code)).toEqual(IMAGING_PROCEDURES.map((p) => p.snomed));
  });
});

describe('$validate', () => {
  const validate = (call: Awaited<ReturnType<typeof north>>['call'], body: unknown, token?: string | null) =>
    call('/fhir/ServiceRequest/$validate', { method: 'POST', ...json(body), ...(token === null ? { token } : {}) });
  const order = exampleServiceRequest({
    intent: 'plan',
    code: { coding: [{ system: 'http://snomed.info/sct', code: '71651007' }] },
  });

  it('needs a token', async () => {
    expect((await validate((await north()).call, order, null)).status).toBe(401);
  });

  it('answers 200 with the issues a write of the same resource is refused for', async () => {
    const { call } = await north();
    await call('/fhir/Patient', { method: 'POST', ...json(examplePatient()) });
    const validated = await validate(call, {
      resourceType: 'Parameters',
      parameter: [{ name: 'resource', resource: order }],
    });
    expect(validated.status).toBe(200);
    const issues = ((await validated.json()) as OperationOutcome).issue.map((i) => [i.code, i.expression?.[0]]);
    const written = await call('/fhir/ServiceRequest', { method: 'POST', ...json(order) });
    expect(written.status).toBe(422);
    expect(issues).toEqual((await outcome(written)).issue.map((i) => [i.code, i.expression?.[0]]));
    expect(issues).toEqual([
      ['business-rule', 'ServiceRequest.intent'],
      ['code-invalid', 'ServiceRequest.code.coding[0]'],
    ]);
  });
});

describe('Prefer, Location, ETag and Last-Modified on writes', () => {
  it('answers a create and an update with the version written, in the body the client prefers', async () => {
    const { call, north: deps } = await north();
    const created = await call('/fhir/Patient', {
      method: 'POST',
      ...json(examplePatient(), { Prefer: 'return=minimal' }),
    });
    expect(created.status).toBe(201);
    expect(await created.text()).toBe('');
    const location = created.headers.get('Location') as string;
    const id = /\/Patient\/([^/]+)\/_history\/1$/.exec(location)?.[1];
    expect(location).toBe(`${deps.region.fhirBaseUrl}/Patient/${id}/_history/1`);
    expect(created.headers.get('ETag')).toBe('W/"1"');
    expect(created.headers.get('Last-Modified')).toBe(
      new Date((await deps.store.read('Patient', id as string)).meta?.lastUpdated as string).toUTCString(),
    );

    await call('/fhir/ServiceRequest', { method: 'POST', ...json(exampleServiceRequest()) });
    const [task] = (await searchAll<Task>(deps.store, 'Task')) as (Task & { id: string })[];
    const updated = await call(`/fhir/Task/${task?.id}`, {
      method: 'PUT',
      ...json(
        { ...task, status: 'cancelled' },
        { 'If-Match': `W/"${task?.meta?.versionId}"`, Prefer: 'return=OperationOutcome' },
      ),
    });
    expect(updated.status).toBe(200);
    expect(updated.headers.get('ETag')).toBe('W/"2"');
    expect(updated.headers.get('Location')).toBe(`${deps.region.fhirBaseUrl}/Task/${task?.id}/_history/2`);
    expect((await outcome(updated)).issue[0]).toMatchObject({ severity: 'information', code: 'informational' });
  });
});

describe('authentication and authorisation', () => {
  it('answers a request without a token with 401 and a Bearer challenge', async () => {
    const res = await (await north()).call('/fhir/Patient', { token: null });
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer /);
    expect((await outcome(res)).issue[0]?.code).toBe('login');
  });

  it('answers a token signed by another key with 401', async () => {
    const { call, token } = await north();
    const forged = await token(GP_TOKEN, await generateSigningKey());
    expect((await call('/fhir/Patient', { token: forged })).status).toBe(401);
  });

  it("answers another region's client with 403", async () => {
    const { call, token } = await north();
    const res = await call('/fhir/Task', { token: await token(RIS_TOKEN) });
    expect(res.status).toBe(403);
    expect((await outcome(res)).issue[0]?.details?.text).toContain('this gateway serves north');
  });

  it('answers an expired token with 401', async () => {
    const { app, hubKey } = await north();
    const { signAccessToken } = await import('@imaging/auth');
    const issuedLongAgo = { now: () => new Date(Date.now() - 3_600_000) };
    const expired = (
      await signAccessToken(GP_TOKEN, { signingKey: hubKey, issuer: 'http://hub.test', clock: issuedLongAgo })
    ).access_token;
    const res = await app.request('/fhir/Patient', { headers: { Authorization: `Bearer ${expired}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toContain('invalid_token');
  });

  it('answers a missing scope with 403', async () => {
    const { call, token } = await north();
    const readOnly = await token({ ...GP_TOKEN, scope: ['system/ServiceRequest.rs'] });
    const res = await call('/fhir/ServiceRequest', {
      method: 'POST',
      ...json(exampleServiceRequest()),
      token: readOnly,
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('WWW-Authenticate')).toContain('insufficient_scope');
  });
});

describe('writing: bad input gets an OperationOutcome and writes nothing', () => {
  it.each([
    ['malformed JSON', '{"resourceType": "Patient",', {}, 400],
    ['the wrong resource type', JSON.stringify({ resourceType: 'Task' }), {}, 400],
    ['a non-FHIR media type', JSON.stringify(examplePatient()), { 'Content-Type': 'text/plain' }, 415],
    [
      'an oversized body',
      JSON.stringify({
        ...examplePatient(),
        text: { status: 'generated', div: `<div>${'x'.repeat(2_000_000)}</div>` },
      }),
      {},
      413,
    ],
    [
      'an invalid NHS number',
      JSON.stringify(
        examplePatient({ identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '1234567890' }] }),
      ),
      {},
      422,
    ],
    ['an unknown element', JSON.stringify({ ...examplePatient(), colour: 'blue' }), {}, 400],
  ])('rejects %s', async (_name, body, headers, status) => {
    const { call, north: deps } = await north();
    const res = await call('/fhir/Patient', {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/fhir+json', ...headers },
    });
    expect(res.status).toBe(status);
    await outcome(res);
    expect(await searchAll(deps.store, 'Patient')).toHaveLength(0);
  });

  /** A resource whose extensions nest 10,000 deep: a stack overflow for anything that walks it recursively. */
  const nestedDeep = (resource: Resource) => {
    let extension = '{"url":"urn:x","valueString":"y"}';
    for (let i = 0; i < 10_000; i++) extension = `{"url":"urn:x","extension":[${extension}]}`;
    return `${JSON.stringify(resource).slice(0, -1)},"extension":[${extension}]}`;
  };

  it.each([
    ['POST', '/fhir/Patient', examplePatient()],
    ['POST', '/fhir/ServiceRequest', exampleServiceRequest()],
    ['PUT', '/fhir/Task/t1', { resourceType: 'Task', id: 't1' }],
    ['POST', '/fhir/ImagingStudy', { resourceType: 'ImagingStudy' }],
    ['POST', '/fhir/DiagnosticReport', { resourceType: 'DiagnosticReport' }],
    ['POST', '/fhir/Endpoint', { resourceType: 'Endpoint' }],
  ] as [string, string, Resource][])(
    'refuses JSON nested too deep on %s %s with 400, writing nothing',
    async (method, path, resource) => {
      const { call, token, north: deps } = await north();
      const writer = await token({
        ...GP_TOKEN,
        scope: [...GP_TOKEN.scope, 'system/ImagingStudy.c', 'system/DiagnosticReport.c', 'system/Endpoint.c'],
      });
      const res = await call(path, { method, token: writer, ...json(nestedDeep(resource), { 'If-Match': 'W/"1"' }) });
      expect(res.status).toBe(400);
      expect((await outcome(res)).issue[0]?.details?.text).toBe('JSON nested deeper than 64 levels');
      for (const written of [
        'Patient',
        'ServiceRequest',
        'Task',
        'ImagingStudy',
        'DiagnosticReport',
        'Endpoint',
      ] as const)
        expect(await searchAll(deps.store, written)).toHaveLength(0);
    },
  );

  it('creates a patient (201 with Location), and answers a repeat with the same one (200)', async () => {
    const { call } = await north();
    const first = await call('/fhir/Patient', { method: 'POST', ...json(examplePatient()) });
    expect(first.status).toBe(201);
    const created = (await first.json()) as Patient;
    expect(first.headers.get('Location')).toBe(`http://127.0.0.1:4101/fhir/Patient/${created.id}/_history/1`);
    const again = await call('/fhir/Patient', { method: 'POST', ...json(examplePatient()) });
    expect(again.status).toBe(200);
    expect(((await again.json()) as Patient).id).toBe(created.id);
  });

  it('answers an order missing a required element with 400 naming it, and writes nothing', async () => {
    const { call, north: deps } = await north();
    await call('/fhir/Patient', { method: 'POST', ...json(examplePatient()) });
    const { status: _status, ...order } = exampleServiceRequest();
    const res = await call('/fhir/ServiceRequest', { method: 'POST', ...json(order) });
    expect(res.status).toBe(400);
    expect((await outcome(res)).issue.map((i) => i.expression?.[0])).toEqual(['ServiceRequest.status']);
    expect(await searchAll(deps.store, 'ServiceRequest')).toHaveLength(0);
  });

  it('answers an unknown performer with 422 naming the element', async () => {
    const { call } = await north();
    await call('/fhir/Patient', { method: 'POST', ...json(examplePatient()) });
    const order = exampleServiceRequest({
      performer: [{ identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'XYZ99' } }],
    });
    const res = await call('/fhir/ServiceRequest', { method: 'POST', ...json(order) });
    expect(res.status).toBe(422);
    expect((await outcome(res)).issue[0]?.expression).toEqual(['ServiceRequest.performer[0]']);
  });

  it('answers an unsupported method with 405 and an unserved type with 404', async () => {
    const { call } = await north();
    expect((await call('/fhir/Task/abc', { method: 'DELETE' })).status).toBe(405);
    expect((await call('/fhir/Observation')).status).toBe(404);
  });

  // An operation asked with another method (what fhir-kit-client's operation() sends for method 'get'), or at
  // another level: how it is invoked, not "an id is 1 to 64 letters" nor "no operation at its base".
  it.each([
    ['GET', '/fhir/Patient/$validate', 405, 'POST', '$validate is invoked with POST, not GET'],
    ['GET', '/fhir/$process-message', 405, 'POST', '$process-message is invoked with POST, not GET'],
    ['POST', '/fhir/$case-trail', 405, 'GET', '$case-trail is invoked with GET, not POST'],
    ['GET', '/fhir/Task/abc/$acknowledge', 405, 'POST', '$acknowledge is invoked with POST, not GET'],
    [
      'POST',
      '/fhir/Task/$acknowledge',
      404,
      null,
      '$acknowledge is invoked at /fhir/Task/<id>/$acknowledge, with POST',
    ],
    [
      'GET',
      '/fhir/Patient/abc/$everything',
      404,
      null,
      'This server has no operation $everything on Patient (see /fhir/metadata)',
    ],
  ])('%s %s is a %s (Allow: %s): %s', async (method, path, status, allow, text) => {
    const { call } = await north();
    const res = await call(path, { method, ...(method === 'POST' ? json({ resourceType: 'Parameters' }) : {}) });
    expect(res.status).toBe(status);
    expect(res.headers.get('Allow')).toBe(allow);
    expect((await outcome(res)).issue[0]?.diagnostics).toBe(text);
  });

  // RFC 9110: a 405 lists what the resource does allow, here what the CapabilityStatement declares.
  it.each([
    ['DELETE', '/fhir/Task/abc', 'GET, PUT'],
    ['POST', '/fhir/Task', 'GET'],
    ['PATCH', '/fhir/Communication/abc', 'GET'],
    ['PUT', '/fhir/Patient', 'GET, POST'],
    ['DELETE', '/fhir/ServiceRequest/abc', 'GET, PUT'],
    // A resource's history and its versions are read only.
    ['POST', '/fhir/Task/abc/_history', 'GET'],
    ['DELETE', '/fhir/Task/abc/_history/1', 'GET'],
    ['PUT', '/fhir/Patient/abc/_history/2', 'GET'],
  ])('%s %s is a 405 that allows %s', async (method, path, allow) => {
    const { call } = await north();
    const res = await call(path, { method, ...json({ resourceType: 'Basic' }) });
    expect(res.status).toBe(405);
    expect(res.headers.get('Allow')).toBe(allow);
    expect((await outcome(res)).issue[0]?.code).toBe('not-supported');
  });

  it.each([
    [
      '/fhir/Task/_history',
      'The history of every Task (history-type) is not offered here: read one Task’s at Task/[id]/_history',
    ],
    [
      '/fhir/_history',
      'The history of the whole server (history-system) is not offered here: read one resource’s at [type]/[id]/_history',
    ],
  ])('GET %s is a 404 saying so, not a 400 about an id', async (path, text) => {
    const { call } = await north();
    const res = await call(path);
    expect(res.status).toBe(404);
    const answer = await outcome(res);
    expect([answer.issue[0]?.code, answer.issue[0]?.diagnostics]).toEqual(['not-supported', text]);
    expect((await call(path, { token: null })).status).toBe(401);
    expect((await call('/fhir/Colour/_history')).status).toBe(404);
  });

  it('answers a path with a trailing slash as the path without it: the open CapabilityStatement, a search', async () => {
    const { call } = await north();
    const statement = await call('/fhir/metadata/', { token: null });
    expect([statement.status, ((await statement.json()) as { resourceType: string }).resourceType]).toEqual([
      200,
      'CapabilityStatement',
    ]);
    const [slashed, plain] = await Promise.all([call('/fhir/Task/'), call('/fhir/Task')]);
    expect(slashed.status).toBe(200);
    expect(await slashed.json()).toEqual(await plain.json());
  });

  it('answers a Task update without If-Match with 428', async () => {
    const { call } = await north();
    const res = await call('/fhir/Task/abc', {
      method: 'PUT',
      ...json({ resourceType: 'Task', status: 'cancelled', intent: 'order' }),
    });
    expect(res.status).toBe(428);
  });
});

describe('reading: each organisation sees its own', () => {
  async function withOrders(n: number) {
    const ctx = await north();
    await ctx.call('/fhir/Patient', { method: 'POST', ...json(examplePatient()) });
    for (let i = 1; i <= n; i++) {
      const order = exampleServiceRequest({
        identifier: [{ system: 'https://imaging-connect.example/fhir/Id/placer-order', value: `N81001-${i}` }],
      });
      expect((await ctx.call('/fhir/ServiceRequest', { method: 'POST', ...json(order) })).status).toBe(201);
    }
    return ctx;
  }

  it("hides another practice's orders from search and read", async () => {
    const { call, token } = await withOrders(1);
    const other = await token({ ...GP_TOKEN, sub: 'gp-n81002', org: 'N81002' });
    const mine = (await (await call('/fhir/ServiceRequest')).json()) as Bundle<ServiceRequest>;
    expect(mine.total).toBe(1);
    const theirs = (await (await call('/fhir/ServiceRequest', { token: other })).json()) as Bundle;
    expect(theirs.total).toBe(0);
    const id = mine.entry?.[0]?.resource?.id;
    expect((await call(`/fhir/ServiceRequest/${id}`, { token: other })).status).toBe(404);
    expect((await call(`/fhir/ServiceRequest/${id}`)).status).toBe(200);
  });

  it('pages with signed tokens that no one else can use or alter', async () => {
    const { call, token } = await withOrders(3);
    const first = (await (await call('/fhir/ServiceRequest?_count=2')).json()) as Bundle;
    expect(first.entry).toHaveLength(2);
    const next = first.link?.find((l) => l.relation === 'next')?.url as string;
    expect(next).toMatch(/^http:\/\/127\.0\.0\.1:4101\/fhir\/ServiceRequest\?_page=/);
    const path = next.replace('http://127.0.0.1:4101', '');
    const second = (await (await call(path)).json()) as Bundle;
    expect(second.entry).toHaveLength(1);
    expect(second.link?.some((l) => l.relation === 'next')).toBe(false);
    const other = await token({ ...GP_TOKEN, sub: 'gp-n81002', org: 'N81002' });
    expect((await call(path, { token: other })).status).toBe(400);
    expect((await call(`${path.slice(0, -4)}AAAA`)).status).toBe(400);
    expect((await call(path.replace('/ServiceRequest?', '/Task?'))).status).toBe(400);
    // An empty token is a bad token, not a search parameter for the store.
    const empty = await call('/fhir/ServiceRequest?_page=');
    expect(empty.status).toBe(400);
    expect((await outcome(empty)).issue[0]?.details?.text).toBe('Invalid or expired page token');
  });

  it.each([
    ['_offset', '1e19'],
    ['_offset', '-1'],
    ['_count', '-1'],
    ['_count', '1001'],
    ['_count', 'ten'],
  ])('answers %s=%s with 400 naming the parameter', async (name, value) => {
    const res = await (await north()).call(`/fhir/ServiceRequest?${name}=${value}`);
    expect(res.status).toBe(400);
    expect((await outcome(res)).issue.map((i) => i.expression)).toEqual([[name]]);
  });

  it('rejects an unknown search parameter with 400 when asked for strict handling', async () => {
    const res = await (await north()).call('/fhir/Task?colour=blue', { headers: { Prefer: 'handling=strict' } });
    expect(res.status).toBe(400);
    expect((await outcome(res)).issue[0]?.details?.text).toContain(
      "Search parameter 'colour' is not supported on Task",
    );
  });
});

describe('$process-message', () => {
  async function routedMessage() {
    const ctx = await north();
    await ctx.call('/fhir/Patient', { method: 'POST', ...json(examplePatient()) });
    await ctx.call('/fhir/ServiceRequest', { method: 'POST', ...json(exampleServiceRequest()) });
    const [delivery] = await searchAll<Task>(ctx.north.store, 'Task', {
      code: 'https://imaging-connect.example/fhir/CodeSystem/task-code|deliver-message',
    });
    const message = await ctx.north.store.read<Bundle>('Bundle', delivery?.focus?.reference?.split('/')[1] as string);
    const midlands = await testGateway(ctx.midlands);
    return {
      ...ctx,
      message,
      requestId: delivery?.identifier?.[0]?.value as string,
      midlands,
      midlandsDeps: ctx.midlands,
    };
  }

  it('takes a message from the hub, and only from the hub', async () => {
    const { message, requestId, midlands, midlandsDeps } = await routedMessage();
    const post = async (token: string, headers: Record<string, string> = { 'X-Request-ID': requestId }) =>
      midlands.app.request('/fhir/$process-message', {
        method: 'POST',
        ...json(message, { Authorization: `Bearer ${token}`, ...headers }),
      });
    expect((await post(await midlands.token(RIS_TOKEN))).status).toBe(403);
    // Without a request id of its own a replay could not be recognised: 400 at the header, nothing processed.
    for (const headers of [{}, { 'X-Request-ID': 'has spaces in it' }] as Record<string, string>[]) {
      const refused = await post(await midlands.token(HUB_TOKEN), headers);
      expect(refused.status).toBe(400);
      expect((await outcome(refused)).issue[0]?.expression).toEqual(['http.X-Request-ID']);
    }
    expect(await searchAll(midlandsDeps.store, 'Bundle')).toHaveLength(0);
    const ok = await post(await midlands.token(HUB_TOKEN));
    expect(ok.status).toBe(200);
    const response = (await ok.json()) as Bundle;
    expect(response.entry?.[0]?.resource).toMatchObject({ resourceType: 'MessageHeader', response: { code: 'ok' } });
    const replay = await post(await midlands.token(HUB_TOKEN));
    expect(replay.status).toBe(200);
    expect(JSON.stringify(await replay.json())).toContain('already processed');
  });

  it('refuses a message nested too deep with 400, processing nothing', async () => {
    const { midlands: deps } = await north();
    const midlands = await testGateway(deps);
    let entry = '{"resourceType":"Basic"}';
    for (let i = 0; i < 10_000; i++) entry = `{"resource":{"resourceType":"Bundle","entry":[${entry}]}}`;
    const res = await midlands.app.request('/fhir/$process-message', {
      method: 'POST',
      ...json(`{"resourceType":"Bundle","type":"message","entry":[${entry}]}`, {
        Authorization: `Bearer ${await midlands.token(HUB_TOKEN)}`,
        'X-Request-ID': 'deep-message-1',
      }),
    });
    expect(res.status).toBe(400);
    expect((await outcome(res)).issue[0]?.details?.text).toBe('JSON nested deeper than 64 levels');
    expect(await searchAll(deps.store, 'Bundle')).toHaveLength(0);
  });

  it('matches what the delivery worker sends', async () => {
    const { north: deps, midlands } = await routedMessage();
    void midlands;
    expect(await deliverDue(deps)).toMatchObject({ delivered: 1 });
  });
});
