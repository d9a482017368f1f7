import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { AccessTokenContent } from '@imaging/auth';
import { CODE_SYSTEMS, HttpStore, NHS_NUMBER_SYSTEM, ODS_SYSTEM, testNhsNumber, memoryLogger } from '@imaging/fhir';
import { examplePatient } from '@imaging/fhir/examples';
import { describe, expect, it } from 'vitest';
import { ACCESS_SYSTEM } from '../domain/labels.ts';
import { GP_TOKEN, RIS_TOKEN, testGateway } from '../testing/app.ts';
import { reportedCase } from '../testing/pathway.ts';
import { testRegions } from '../testing/regions.ts';

/** Searches and reads through the HTTP API, on the embedded store and on a stand-in for HAPI FHIR. */

const HAPI_BASE = 'http://hapi.internal:8080/fhir/north';
const OTHER_GP: AccessTokenContent = { ...GP_TOKEN, sub: 'gp-n81002', org: 'N81002' };

type Call = (path: string, init?: RequestInit & { as?: AccessTokenContent }) => Promise<Response>;

async function caller(gateway: Awaited<ReturnType<typeof testGateway>>, as: AccessTokenContent): Promise<Call> {
  const tokens = new Map<AccessTokenContent, string>();
  const tokenFor = async (content: AccessTokenContent) => {
    const known = tokens.get(content);
    if (known) return known;
    const fresh = await gateway.token(content);
    tokens.set(content, fresh);
    return fresh;
  };
  return async (path, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('Authorization', `Bearer ${await tokenFor(init.as ?? as)}`);
    return gateway.app.request(path, { ...init, headers });
  };
}

/** The north gateway over the embedded store, with a reported case in it. */
async function embedded() {
  const { regions, north } = await reportedCase();
  const call = await caller(await testGateway(regions.north), GP_TOKEN);
  return { call, held: north, seen: undefined };
}

/**
 * The north gateway over HttpStore, whose server answers like HAPI FHIR: `answer` decides, and every
 * request that reaches it is recorded. Searches get an empty searchset unless `answer` says otherwise.
 */
async function overHapi(answer: (url: URL, method: string) => Response | undefined = () => undefined) {
  const seen: URL[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    seen.push(url);
    return answer(url, init?.method ?? 'GET') ?? fhir(200, { resourceType: 'Bundle', type: 'searchset', entry: [] });
  }) as typeof globalThis.fetch;
  const logger = memoryLogger();
  const deps = { ...testRegions().open('north', new HttpStore({ baseUrl: HAPI_BASE, fetch })), logger };
  const call = await caller(await testGateway(deps), GP_TOKEN);
  return { call, seen, logger };
}

const fhir = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/fhir+json' } });

const hapiOutcome = (status: number, diagnostics: string) =>
  fhir(status, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'processing', diagnostics }] });

async function outcomeOf(res: Response): Promise<OperationOutcome> {
  const body = (await res.json()) as OperationOutcome;
  expect(body.resourceType).toBe('OperationOutcome');
  return body;
}

const stores = [
  ['the embedded store', embedded],
  ['HAPI', () => overHapi()],
] as const;

describe.each(stores)('searches on %s', (_store, open) => {
  it.each([
    ['an unsupported modifier', 'Task?_id:contains=a', '_id'],
    ['reverse chaining', `Patient?_id=p1&_has:ServiceRequest:subject:_security=${ACCESS_SYSTEM}|N81002`, '_has'],
    ['a chain', 'ImagingStudy?_id=s1&endpoint.name=guess', 'endpoint.name'],
    ['_revinclude', 'Task?_revinclude=Task:focus', '_revinclude'],
    ['_contained', 'Task?_contained=true', '_contained'],
    ['_filter', 'Task?_filter=status%20eq%20requested', '_filter'],
    ['_query', 'Task?_query=anything', '_query'],
    ['a format other than JSON', 'Task?_format=xml', '_format'],
    ['an undeclared _include', 'ImagingStudy?_include=ImagingStudy:subject', '_include'],
    ['_include:iterate', 'Task?_include:iterate=Task:focus:ServiceRequest', '_include'],
    ['a search on the access labels', `Task?_security=${ACCESS_SYSTEM}|N81002`, '_security'],
    ['an unknown parameter', 'Task?colour=blue', 'colour'],
    ['a parameter named like something every object has', 'Task?constructor=x', 'constructor'],
    ['an _include named like something every object has', 'Task?_include=toString', '_include'],
    ['an NHS number failing Modulus 11', `Patient?identifier=${NHS_NUMBER_SYSTEM}|1234567890`, 'identifier'],
    ['an NHS number of five digits', `Patient?identifier=${NHS_NUMBER_SYSTEM}|12345`, 'identifier'],
    ['an organisation by id, where only ODS codes are held', 'Task?owner=Organization/x', 'owner'],
    ['an impossible date', 'Task?authored-on=2026-02-30', 'authored-on'],
    ['a date prefix not offered', 'Task?authored-on=sa2026-01-01', 'authored-on'],
    ['an absolute reference', 'Task?focus=http://elsewhere.test/fhir/ServiceRequest/1', 'focus'],
  ])('refuses %s with a 400 naming the parameter, before the store sees it', async (_name, path, expression) => {
    const { call, seen } = await open();
    const res = await call(`/fhir/${path}`);
    expect(res.status).toBe(400);
    expect((await outcomeOf(res)).issue.map((i) => i.expression)).toEqual([[expression]]);
    if (seen) expect(seen).toEqual([]);
  });

  it('refuses an _include of a type the token may not read with 403, before the store sees it', async () => {
    const { call, seen } = await open();
    const res = await call('/fhir/ImagingStudy?_include=ImagingStudy:endpoint');
    expect(res.status).toBe(403);
    expect((await outcomeOf(res)).issue[0]?.details?.text).toContain('system/Endpoint.r');
    const noOrders = { ...GP_TOKEN, scope: GP_TOKEN.scope.filter((s) => !s.startsWith('system/ServiceRequest')) };
    expect((await call('/fhir/Task?_include=Task:focus:ServiceRequest', { as: noOrders })).status).toBe(403);
    if (seen) expect(seen).toEqual([]);
  });
});

describe('what reaches HAPI', () => {
  const access = `${ACCESS_SYSTEM}|N81001`;
  it.each([
    [
      'an NHS number, trimmed',
      `Patient?identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}| ${testNhsNumber(0)} `)}`,
      { identifier: `${NHS_NUMBER_SYSTEM}|${testNhsNumber(0)}` },
    ],
    [
      'an ODS code, upper-cased, by the stand-in parameter for :identifier',
      `Task?owner:identifier=${ODS_SYSTEM}|rm1&status=requested`,
      { 'owner-identifier': `${ODS_SYSTEM}|RM1`, status: 'requested' },
    ],
    [
      'result parameters as they were, _format=json dropped',
      'Task?_format=json&_count=5&_sort=-_lastUpdated',
      { _count: '5', _sort: '-_lastUpdated' },
    ],
    ['a declared _include', 'Task?_include=Task:focus:ServiceRequest', { _include: 'Task:focus:ServiceRequest' }],
    [
      'date bounds',
      'Task?authored-on=ge2026-01-05&authored-on=lt2026-01-06',
      { 'authored-on': ['ge2026-01-05', 'lt2026-01-06'] },
    ],
  ])('%s, and the access filter', async (_name, path, expected: Record<string, string | string[]>) => {
    const { call, seen } = await overHapi();
    expect((await call(`/fhir/${path}`)).status).toBe(200);
    const sent = new URLSearchParams();
    for (const [k, v] of Object.entries(expected)) for (const one of [v].flat()) sent.append(k, one);
    sent.append('_security', access);
    expect(seen.map((u) => [u.pathname, u.searchParams.toString()])).toEqual([
      [`/fhir/north/${path.split('?')[0]}`, sent.toString()],
    ]);
  });
});

describe('search results', () => {
  it('finds a patient by an NHS number sent with spaces around it', async () => {
    const { call } = await embedded();
    const nhs = examplePatient().identifier?.[0]?.value as string;
    const res = await call(`/fhir/Patient?identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|  ${nhs} `)}`);
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as Bundle<Patient>;
    expect(bundle.entry?.map((e) => e.resource?.identifier?.[0]?.value)).toEqual([nhs]);
  });

  it('includes what the token may read and the organisation may see', async () => {
    const { call, held } = await embedded();
    // The fulfilment Task (the case's URGENT report also raised an acknowledgement Task, focused on the report).
    const fulfil = encodeURIComponent(`${CODE_SYSTEMS.taskCode}|fulfil`);
    const tasks = (await (await call(`/fhir/Task?code=${fulfil}&_include=Task:focus:ServiceRequest`)).json()) as Bundle;
    expect(tasks.entry?.map((e) => [e.search?.mode, e.resource?.resourceType, e.resource?.id])).toEqual([
      ['match', 'Task', held.Task.id],
      ['include', 'ServiceRequest', held.ServiceRequest.id],
    ]);
    const withEndpoints = { ...GP_TOKEN, scope: [...GP_TOKEN.scope, 'system/Endpoint.rs'] };
    const studies = (await (
      await call('/fhir/ImagingStudy?_include=ImagingStudy:endpoint', { as: withEndpoints })
    ).json()) as Bundle;
    expect(studies.entry?.map((e) => [e.search?.mode, e.resource?.id])).toEqual([
      ['match', held.ImagingStudy.id],
      ['include', held.Endpoint.id],
    ]);
  });

  it("on HAPI, keeps out an included resource of another organisation's (HAPI filters only the matches)", async () => {
    const labelled = (code: string) => ({ security: [{ system: ACCESS_SYSTEM, code }] });
    const { call } = await overHapi(() =>
      fhir(200, {
        resourceType: 'Bundle',
        type: 'searchset',
        entry: [
          { resource: { resourceType: 'Task', id: 't1', meta: labelled('N81001') }, search: { mode: 'match' } },
          {
            resource: { resourceType: 'ServiceRequest', id: 's1', meta: labelled('N81002') },
            search: { mode: 'include' },
          },
          {
            resource: { resourceType: 'ServiceRequest', id: 's2', meta: labelled('N81001') },
            search: { mode: 'include' },
          },
        ],
      }),
    );
    const bundle = (await (await call('/fhir/Task?_include=Task:focus:ServiceRequest')).json()) as Bundle;
    expect(bundle.entry?.map((e) => e.resource?.id)).toEqual(['t1', 's2']);
  });

  it('includes nothing another organisation may not see', async () => {
    const { regions, midlands } = await reportedCase();
    const call = await caller(await testGateway(regions.midlands), RIS_TOKEN);
    // Another provider in the midlands, with every scope RM1 has: the endpoint is RM1's alone.
    const other = { ...RIS_TOKEN, sub: 'ris-rx9', org: 'RX9' };
    const bundle = (await (
      await call(`/fhir/ImagingStudy?_include=ImagingStudy:endpoint`, { as: other })
    ).json()) as Bundle;
    expect(bundle.entry ?? []).toEqual([]);
    const own = (await (await call(`/fhir/ImagingStudy?_include=ImagingStudy:endpoint`)).json()) as Bundle;
    expect(own.entry?.map((e) => e.resource?.id)).toEqual([midlands.ImagingStudy.id, midlands.Endpoint.id]);
  });
});

describe('"not found" and "not yours" are the same answer', () => {
  it('on the embedded store: reads and Task updates', async () => {
    const { call, held } = await embedded();
    const answers = async (path: string, init: RequestInit = {}) => {
      const res = await call(path, { ...init, as: OTHER_GP });
      return [res.status, res.headers.get('Content-Type'), await res.text()];
    };
    const theirs = await answers(`/fhir/ServiceRequest/${held.ServiceRequest.id}`);
    expect(theirs[0]).toBe(404);
    expect(await answers('/fhir/ServiceRequest/no-such-order')).toEqual(theirs);
    expect((await call(`/fhir/ServiceRequest/${held.ServiceRequest.id}`)).status).toBe(200);

    const update = (id: string) =>
      answers(`/fhir/Task/${id}`, {
        method: 'PUT',
        body: JSON.stringify({ ...held.Task, id, status: 'cancelled' }),
        headers: { 'Content-Type': 'application/fhir+json', 'If-Match': 'W/"1"' },
      });
    const theirTask = await update(held.Task.id);
    expect(theirTask[0]).toBe(404);
    expect(await update('no-such-task')).toEqual(theirTask);
    expect(await answers('/fhir/Task/no-such-task')).toEqual(theirTask);
  });

  it('on HAPI, whatever HAPI says, and byte for byte as on the embedded store', async () => {
    const someoneElses: Patient = {
      ...examplePatient(),
      id: 'theirs',
      meta: { security: [{ system: ACCESS_SYSTEM, code: 'N81002' }] },
    };
    const { call } = await overHapi((url) => {
      const id = url.pathname.split('/').pop();
      if (id === 'theirs') return fhir(200, someoneElses);
      if (id === 'unknown') return hapiOutcome(404, 'HAPI-2001: Resource Patient/unknown is not known');
      if (id === 'elsewhere') return hapiOutcome(404, 'HAPI-2733: Patient/elsewhere belongs to partition south');
      if (id === 'deleted') return hapiOutcome(410, 'HAPI-0971: Resource was deleted at 2026-01-05T09:30:00Z');
      return undefined;
    });
    const answers = async (path: string) => {
      const res = await call(path);
      return [res.status, res.headers.get('Content-Type'), await res.text()];
    };
    const theirs = await answers('/fhir/Patient/theirs');
    expect(theirs[0]).toBe(404);
    for (const id of ['unknown', 'elsewhere', 'deleted']) expect(await answers(`/fhir/Patient/${id}`)).toEqual(theirs);
    const local = await embedded();
    const res = await local.call('/fhir/Patient/unknown');
    expect([res.status, res.headers.get('Content-Type'), await res.text()]).toEqual(theirs);
  });

  it('a malformed id is the same 400 on both stores, and never reaches HAPI', async () => {
    const hapi = await overHapi();
    const local = await embedded();
    const a = await hapi.call('/fhir/Patient/a%20b');
    const b = await local.call('/fhir/Patient/a%20b');
    expect(a.status).toBe(400);
    expect([b.status, await b.text()]).toEqual([a.status, await a.text()]);
    expect(hapi.seen).toEqual([]);
  });
});

describe("HAPI's errors never reach a client", () => {
  const HAPI_WORDS = [
    'HAPI-',
    'ca.uhn',
    'Exception',
    'java',
    'partition',
    'north',
    '_security',
    'organisation-access',
    'hapi.internal',
    '8080',
  ];
  const diagnostics =
    'HAPI-0302: ca.uhn.fhir.rest.server.exceptions.InvalidRequestException: Unknown search parameter "x" in ' +
    `partition north; _security=${ACCESS_SYSTEM}|N81001 at ${HAPI_BASE}/Task`;
  const requests: [string, string, RequestInit][] = [
    ['a search', '/fhir/Task?status=requested', {}],
    ['a read', '/fhir/Task/abc', {}],
    [
      'a registration',
      '/fhir/Patient',
      { method: 'POST', body: JSON.stringify(examplePatient()), headers: { 'Content-Type': 'application/fhir+json' } },
    ],
  ];

  it.each([
    [400, 'an OperationOutcome', () => hapiOutcome(400, diagnostics)],
    [404, 'an OperationOutcome', () => hapiOutcome(404, diagnostics)],
    [409, 'an OperationOutcome', () => hapiOutcome(409, diagnostics)],
    [422, 'an OperationOutcome', () => hapiOutcome(422, diagnostics)],
    [500, 'an OperationOutcome', () => hapiOutcome(500, diagnostics)],
    [
      500,
      'a Java stack trace',
      () =>
        new Response(`<html><pre>java.lang.NullPointerException\n\tat ca.uhn.fhir.jpa.X(${HAPI_BASE})</pre></html>`, {
          status: 500,
          headers: { 'Content-Type': 'text/html' },
        }),
    ],
    [503, 'an OperationOutcome', () => hapiOutcome(503, diagnostics)],
  ])(
    "HAPI answering %i with %s: the client gets an outcome of ours, the log gets HAPI's words",
    async (status, _what, reply) => {
      const { call, logger } = await overHapi(() => reply());
      for (const [what, path, init] of requests) {
        const res = await call(path, init);
        const body = await res.text();
        expect(res.status, `${what}: ${body}`).toBeGreaterThanOrEqual(400);
        expect(JSON.parse(body).resourceType, what).toBe('OperationOutcome');
        for (const word of HAPI_WORDS) expect(body, `${what} answered ${res.status}`).not.toContain(word);
        if (status >= 500) expect([502, 503], what).toContain(res.status);
      }
      if (status !== 404) {
        // A read's 404 is the gateway's own "not visible"; every other refusal is logged with HAPI's words.
        const logged = JSON.stringify(logger.entries);
        expect(logged).toContain(
          status === 500 && _what !== 'an OperationOutcome' ? 'NullPointerException' : 'HAPI-0302',
        );
      }
    },
  );
});
