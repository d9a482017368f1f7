import type { Bundle, OperationOutcome, Patient, Resource, Task } from '@medplum/fhirtypes';
import type { AccessTokenContent } from '@imaging/auth';
import {
  CODE_SYSTEMS,
  HttpStore,
  memoryLogger,
  NHS_NUMBER_SYSTEM,
  ODS_SYSTEM,
  SUBSETTED,
  SYSTEMS,
  testNhsNumber,
} from '@imaging/fhir';
import { exampleFulfilmentTask, examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { describe, expect, it } from 'vitest';
import { ACCESS_SYSTEM, withAccess } from '../domain/labels.ts';
import { placeOrder } from '../domain/orders.ts';
import { MAX_CHAIN_MATCHES } from '../domain/reads.ts';
import { GP_TOKEN, RIS_TOKEN, testGateway } from '../testing/app.ts';
import { reportedCase } from '../testing/pathway.ts';
import { GP, testRegions } from '../testing/regions.ts';

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
  return { call, held: north, seen: undefined, base: regions.north.region.fhirBaseUrl, regions };
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
  return { call, seen, logger, base: deps.region.fhirBaseUrl };
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

const HANDLINGS = [undefined, 'handling=lenient', 'handling=strict'] as const;
const preferring = (prefer: string | undefined): RequestInit => (prefer ? { headers: { Prefer: prefer } } : {});

describe.each(stores)('searches on %s', (_store, open) => {
  // Refused whatever the handling: a check, never something to leave out. Each would answer another
  // question than the one asked, read what the access filter does not cover, or is malformed.
  it.each([
    ['an unsupported modifier', 'Task?_id:contains=a', '_id'],
    ['a declared parameter without its required modifier', 'Task?owner=Organization/x', 'owner'],
    ['reverse chaining', `Patient?_id=p1&_has:ServiceRequest:subject:_security=${ACCESS_SYSTEM}|N81002`, '_has'],
    ['an undeclared chain', 'ImagingStudy?_id=s1&endpoint.name=guess', 'endpoint.name'],
    ['a typed chain', 'Task?patient:Patient.identifier=x', 'patient'],
    ['a chain on a chain', 'Task?patient.organization.identifier=x', 'patient.organization.identifier'],
    ['a search on the access labels', `Task?_security=${ACCESS_SYSTEM}|N81002`, '_security'],
    ['a format other than JSON', 'Task?_format=xml', '_format'],
    ['an NHS number failing Modulus 11', `Patient?identifier=${NHS_NUMBER_SYSTEM}|1234567890`, 'identifier'],
    ['an NHS number of five digits', `Patient?identifier=${NHS_NUMBER_SYSTEM}|12345`, 'identifier'],
    [
      'a chained NHS number failing Modulus 11',
      `Task?patient.identifier=${NHS_NUMBER_SYSTEM}|1234567890`,
      'patient.identifier',
    ],
    ['a chained ODS code that is not one', `Task?owner.identifier=${ODS_SYSTEM}|R-1`, 'owner.identifier'],
    ['an impossible date', 'Task?authored-on=2026-02-30', 'authored-on'],
    ['a date prefix not offered', 'Task?authored-on=sa2026-01-01', 'authored-on'],
    ['an absolute reference', 'Task?focus=http://elsewhere.test/fhir/ServiceRequest/1', 'focus'],
    ['a _summary R4 does not have', 'Task?_summary=some', '_summary'],
    ['_summary with _elements', 'Task?_summary=true&_elements=status', '_elements'],
    ['an element Task does not have', 'Task?_elements=status,colour', '_elements'],
    ['_sort given twice', 'Task?_sort=status&_sort=authored-on', '_sort'],
    ['a negative _count', 'Task?_count=-1', '_count'],
    ['a _count out of bounds', 'Task?_count=1001', '_count'],
    ['_count=0 (_summary=count) with another _summary', 'Task?_count=0&_summary=true', '_count'],
    ['_count=0 (_summary=count) with _elements', 'Task?_count=0&_elements=status', '_count'],
    ['an _offset out of bounds', 'Task?_offset=-1', '_offset'],
  ])(
    'refuses %s with a 400 naming it, lenient or strict, before the store sees it',
    async (_name, path, expression) => {
      const { call, seen } = await open();
      for (const prefer of HANDLINGS) {
        const res = await call(`/fhir/${path}`, preferring(prefer));
        expect(res.status, prefer).toBe(400);
        expect((await outcomeOf(res)).issue.map((i) => i.expression)).toEqual([[expression]]);
      }
      if (seen) expect(seen).toEqual([]);
    },
  );

  // What the rules do not answer: refused when the client asks for strict handling, left out otherwise.
  const unanswered = [
    ['_contained', 'Task?_contained=true&status=requested', '_contained', 'status=requested'],
    ['_filter', 'Task?_filter=status%20eq%20requested', '_filter', ''],
    ['_query', 'Task?_query=anything&status=requested', '_query', 'status=requested'],
    ['an undeclared _include', 'ImagingStudy?_include=ImagingStudy:subject', '_include', ''],
    ['_include:iterate', 'Task?_include:iterate=Task:focus:ServiceRequest', '_include', ''],
    ['an undeclared _revinclude', 'Task?_revinclude=Task:focus&status=requested', '_revinclude', 'status=requested'],
    ['an unknown parameter', 'Task?colour=blue&status=requested', 'colour', 'status=requested'],
    ['an R4 parameter not declared', 'Task?_tag=urn:x|y', '_tag', ''],
    ['a parameter named like something every object has', 'Task?constructor=x', 'constructor', ''],
    ['an _include named like something every object has', 'Task?_include=toString', '_include', ''],
    ['a _sort by a reference, keeping the other keys', 'Task?_sort=focus,-authored-on', '_sort', '_sort=-authored-on'],
  ] as const;

  it.each(unanswered)(
    'under handling=strict, refuses %s with a 400 naming it, before the store sees it',
    async (_name, path, expression) => {
      const { call, seen } = await open();
      const res = await call(`/fhir/${path}`, preferring('handling=strict'));
      expect(res.status).toBe(400);
      expect(res.headers.get('Preference-Applied')).toBeNull();
      expect((await outcomeOf(res)).issue.map((i) => i.expression)).toEqual([[expression]]);
      if (seen) expect(seen).toEqual([]);
    },
  );

  it.each(unanswered)(
    'by default (lenient), leaves out %s: the self link shows what was applied, an outcome entry what was not',
    async (_name, path, expression, kept) => {
      const { call, seen, base } = await open();
      for (const prefer of [undefined, 'handling=lenient']) {
        const res = await call(`/fhir/${path}`, preferring(prefer));
        expect(res.status, prefer).toBe(200);
        expect(res.headers.get('Preference-Applied')).toBe(prefer ?? null);
        const bundle = (await res.json()) as Bundle;
        const type = path.split('?')[0];
        expect(selfOf(bundle)).toBe(asLink(base, `${type}?${kept}`));
        const outcomes = (bundle.entry ?? []).filter((e) => e.search?.mode === 'outcome');
        expect(
          outcomes.map((e) => (e.resource as OperationOutcome).issue.map((i) => [i.severity, i.expression])),
        ).toEqual([[['warning', [expression]]]]);
      }
      // The store was asked what was applied, and the access filter: nothing that was left out.
      for (const url of seen ?? []) {
        const sent = new URLSearchParams(url.search);
        sent.delete('_security');
        expect(sent.toString()).toBe(new URLSearchParams(kept).toString());
      }
    },
  );

  it('refuses an _include or _revinclude of a type the token may not read with 403, before the store sees it', async () => {
    const { call, seen } = await open();
    const res = await call('/fhir/ImagingStudy?_include=ImagingStudy:endpoint');
    expect(res.status).toBe(403);
    expect((await outcomeOf(res)).issue[0]?.details?.text).toContain('system/Endpoint.r');
    const noOrders = { ...GP_TOKEN, scope: GP_TOKEN.scope.filter((s) => !s.startsWith('system/ServiceRequest')) };
    expect((await call('/fhir/Task?_include=Task:focus:ServiceRequest', { as: noOrders })).status).toBe(403);
    // Without its target type, as HAPI's client sends it: answered as the typed form, so checked as it.
    expect((await call('/fhir/Task?_include=Task:focus', { as: noOrders })).status).toBe(403);
    const noTasks = {
      ...GP_TOKEN,
      scope: [...GP_TOKEN.scope.filter((s) => !s.startsWith('system/Task')), 'system/Task.s'],
    };
    for (const prefer of HANDLINGS)
      expect(
        (await call('/fhir/ServiceRequest?_revinclude=Task:focus', { as: noTasks, ...preferring(prefer) })).status,
      ).toBe(403);
    if (seen) expect(seen).toEqual([]);
  });

  it('refuses a chain through a type the token may not search with 403, before the store sees it', async () => {
    const { call, seen } = await open();
    const noPatients = { ...GP_TOKEN, scope: GP_TOKEN.scope.filter((s) => !s.startsWith('system/Patient')) };
    const res = await call(`/fhir/Task?patient.identifier=${NHS_NUMBER_SYSTEM}|${testNhsNumber(0)}`, {
      as: noPatients,
    });
    expect(res.status).toBe(403);
    expect((await outcomeOf(res)).issue[0]?.details?.text).toContain('system/Patient.s');
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
    ['a declared _revinclude', 'ServiceRequest?_revinclude=Task:focus', { _revinclude: 'Task:focus' }],
    ['_sort, each key as asked', 'Task?_sort=-authored-on, status', { _sort: '-authored-on,status' }],
    [
      '_summary=count, which HAPI counts',
      'Task?_summary=count&status=requested',
      { _summary: 'count', status: 'requested' },
    ],
    [
      '_count=0 as _summary=count (R4 search.html#count)',
      'Task?status=requested&_count=0',
      { status: 'requested', _summary: 'count' },
    ],
    ['_count=0 with _summary=count, asked once', 'Task?_count=0&_summary=count', { _summary: 'count' }],
    ['not _summary=true, which the gateway applies', 'Task?_summary=true&status=requested', { status: 'requested' }],
    ['not _elements, which the gateway applies', 'Task?_elements=status,owner', {}],
    [
      'an .identifier chain, as the stand-in parameter for :identifier',
      `Task?owner.identifier=${ODS_SYSTEM}|rm1`,
      { 'owner-identifier': `${ODS_SYSTEM}|RM1` },
    ],
    ['only what was applied of a lenient search', 'Task?colour=blue&status=requested&_tag=x', { status: 'requested' }],
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

  it("answers HAPI's client's _include=Task:focus (no target type) for the ServiceRequest, and says so", async () => {
    const { call, held } = await embedded();
    const fulfil = encodeURIComponent(`${CODE_SYSTEMS.taskCode}|fulfil`);
    const bundle = (await (await call(`/fhir/Task?code=${fulfil}&_include=Task:focus`)).json()) as Bundle;
    expect(bundle.entry?.map((e) => [e.search?.mode, e.resource?.resourceType, e.resource?.id])).toEqual([
      ['match', 'Task', held.Task.id],
      ['include', 'ServiceRequest', held.ServiceRequest.id],
      ['outcome', 'OperationOutcome', undefined],
    ]);
    const note = (bundle.entry?.[2]?.resource as OperationOutcome | undefined)?.issue ?? [];
    expect(note.map((i) => [i.severity, i.diagnostics])).toEqual([
      ['information', '_include=Task:focus is answered on Task for Task:focus:ServiceRequest only'],
    ]);
    expect(bundle.link?.[0]?.url).toContain(`_include=${encodeURIComponent('Task:focus:ServiceRequest')}`);
    const strict = await call('/fhir/Task?_include=Task:focus', preferring('handling=strict'));
    expect(strict.status).toBe(400);
    expect((await outcomeOf(strict)).issue[0]?.diagnostics).toContain('ask for it by type');
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

/**
 * The north gateway over the embedded store with the reported case, a second, earlier order of the GP's,
 * and a Task of another practice's (N81002) that points at the GP's first order.
 */
async function withSecondOrder() {
  const { regions, north } = await reportedCase();
  const placed = await placeOrder(
    regions.north,
    GP,
    exampleServiceRequest({
      identifier: [{ system: SYSTEMS.placerOrder, value: 'N81001-000124' }],
      authoredOn: '2026-01-04T09:30:00Z',
    }),
    'case-2',
  );
  const theirs = await regions.north.store.create<Task>(
    withAccess(
      exampleFulfilmentTask({
        identifier: [{ system: SYSTEMS.task, value: 'N81002-000001-fulfil' }],
        focus: { reference: `ServiceRequest/${north.ServiceRequest.id}` },
      }),
      ['N81002'],
    ),
  );
  const call = await caller(await testGateway(regions.north), GP_TOKEN);
  const second = { ServiceRequest: placed.serviceRequest, Task: placed.task };
  return { call, held: north, second, theirs: theirs.resource, base: regions.north.region.fhirBaseUrl };
}

const matchIds = (bundle: Bundle) =>
  (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource?.id);
const includedIds = (bundle: Bundle) =>
  (bundle.entry ?? [])
    .filter((e) => e.search?.mode === 'include')
    .map((e) => `${e.resource?.resourceType}/${e.resource?.id}`)
    .sort();
const selfOf = (bundle: Bundle) => bundle.link?.find((l) => l.relation === 'self')?.url;
/** A search's URL as a self link writes it: the query as URLSearchParams encodes it. */
const asLink = (base: string, path: string) => {
  const [type, query = ''] = path.split('?');
  const encoded = new URLSearchParams(query).toString();
  return `${base}/${type}${encoded ? `?${encoded}` : ''}`;
};
const isSubsetted = (resource: Resource | undefined) =>
  resource?.meta?.tag?.some((t) => t.system === SUBSETTED.system && t.code === SUBSETTED.code) ?? false;

describe('search features, on the embedded store', () => {
  async function search(path: string, init: RequestInit & { as?: AccessTokenContent } = {}) {
    const world = await withSecondOrder();
    const res = await world.call(`/fhir/${path}`, init);
    const body = (await res.json()) as Bundle;
    expect(res.status, JSON.stringify(body).slice(0, 300)).toBe(200);
    return { ...world, bundle: body };
  }

  it.each([
    ['the orders', 'ServiceRequest?_summary=count', GP_TOKEN, 2],
    ["the GP's Tasks, not another practice's nor the deliveries", 'Task?_summary=count', GP_TOKEN, 2],
    ["the other practice's one Task", 'Task?_summary=count', OTHER_GP, 1],
    ['none of the orders, for the other practice', 'ServiceRequest?_summary=count', OTHER_GP, 0],
    ['the orders, by _count=0', 'ServiceRequest?_count=0', GP_TOKEN, 2],
    ["the other practice's one Task, by _count=0", 'Task?_count=0', OTHER_GP, 1],
  ])('_summary=count counts %s, and returns none of them', async (_what, path, as, total) => {
    const { bundle, base } = await search(path, { as });
    expect(bundle.total).toBe(total);
    expect(bundle.entry ?? []).toEqual([]);
    expect(selfOf(bundle)).toBe(asLink(base, path));
  });

  it.each([
    // ServiceRequest's mandatory elements are status, intent and subject.
    ['_elements', 'ServiceRequest?_elements=status', ['id', 'intent', 'meta', 'resourceType', 'status', 'subject']],
    ['_summary=text', 'ServiceRequest?_summary=text', ['id', 'intent', 'meta', 'resourceType', 'status', 'subject']],
    [
      '_elements, listing a choice element and one by Type.name',
      'ServiceRequest?_elements=ServiceRequest.code,reasonCode',
      ['code', 'id', 'intent', 'meta', 'reasonCode', 'resourceType', 'status', 'subject'],
    ],
  ])('%s shows each match in part, tagged SUBSETTED, with its labels', async (_name, path, keys) => {
    const { bundle } = await search(path);
    expect(matchIds(bundle)).toHaveLength(2);
    for (const entry of bundle.entry ?? []) {
      expect(Object.keys(entry.resource ?? {}).sort()).toEqual(keys);
      expect(isSubsetted(entry.resource)).toBe(true);
      expect(entry.resource?.meta?.security).toContainEqual({ system: ACCESS_SYSTEM, code: 'N81001' });
    }
  });

  it('_summary=true keeps the summary elements only; _summary=false and none keep all', async () => {
    const { call, held } = await withSecondOrder();
    const whole = (await (await call(`/fhir/Task/${held.Task.id}`)).json()) as Task;
    expect(whole.identifier?.length).toBeGreaterThan(0);
    const summary = (await (await call(`/fhir/Task?_id=${held.Task.id}&_summary=true`)).json()) as Bundle<Task>;
    const [task] = (summary.entry ?? []).map((e) => e.resource);
    // Task.identifier is not a summary element in R4; status, intent, focus and owner are.
    expect(task?.identifier).toBeUndefined();
    expect([task?.status, task?.intent, task?.focus, task?.owner]).toEqual([
      whole.status,
      whole.intent,
      whole.focus,
      whole.owner,
    ]);
    expect(isSubsetted(task)).toBe(true);
    for (const path of [`Task?_id=${held.Task.id}&_summary=false`, `Task?_id=${held.Task.id}`]) {
      const full = (await (await call(`/fhir/${path}`)).json()) as Bundle<Task>;
      expect(full.entry?.map((e) => e.resource)).toEqual([whole]);
    }
  });

  it.each([
    ['authored, ascending', 'ServiceRequest?_sort=authored', ['second', 'first']],
    ['authored, descending', 'ServiceRequest?_sort=-authored', ['first', 'second']],
    ['_lastUpdated, descending', 'ServiceRequest?_sort=-_lastUpdated', ['second', 'first']],
    ['status, then authored', 'Task?_sort=status,authored-on', ['first', 'second']],
    ['status descending, then authored', 'Task?_sort=-status,authored-on', ['second', 'first']],
  ])('_sort by %s', async (_name, path, order) => {
    const { bundle, held, second, base } = await search(path);
    const type = path.split('?')[0] as 'ServiceRequest' | 'Task';
    const ids = { first: held[type].id, second: second[type].id };
    expect(matchIds(bundle)).toEqual(order.map((o) => ids[o as keyof typeof ids]));
    expect(selfOf(bundle)).toBe(asLink(base, path));
  });

  it("_revinclude=Task:focus brings in each order's Task, and no Task the caller may not see", async () => {
    const { bundle, held, second, theirs } = await search('ServiceRequest?_revinclude=Task:focus');
    expect(matchIds(bundle).sort()).toEqual([held.ServiceRequest.id, second.ServiceRequest.id].sort());
    expect(includedIds(bundle)).toEqual([`Task/${held.Task.id}`, `Task/${second.Task.id}`].sort());
    expect(JSON.stringify(bundle)).not.toContain(theirs.id);
  });

  it('_revinclude brings in the study and the report of an order', async () => {
    const { call, held, second } = await withSecondOrder();
    const revinclude = '_revinclude=ImagingStudy:basedon&_revinclude=DiagnosticReport:based-on';
    const found = (await (
      await call(`/fhir/ServiceRequest?_id=${held.ServiceRequest.id}&${revinclude}`)
    ).json()) as Bundle;
    expect(includedIds(found)).toEqual(
      [`DiagnosticReport/${held.DiagnosticReport.id}`, `ImagingStudy/${held.ImagingStudy.id}`].sort(),
    );
    const none = (await (
      await call(`/fhir/ServiceRequest?_id=${second.ServiceRequest.id}&${revinclude}`)
    ).json()) as Bundle;
    expect(matchIds(none)).toEqual([second.ServiceRequest.id]);
    expect(includedIds(none)).toEqual([]);
  });

  it('owner.identifier is owner:identifier, and the self link says so', async () => {
    const { call, base } = await withSecondOrder();
    const get = async (path: string) => (await (await call(`/fhir/${path}`)).json()) as Bundle;
    const chained = await get(`Task?owner.identifier=${ODS_SYSTEM}|rm1`);
    const modified = await get(`Task?owner:identifier=${ODS_SYSTEM}|RM1`);
    expect(matchIds(chained)).toHaveLength(2);
    expect(chained).toEqual(modified);
    expect(selfOf(chained)).toBe(asLink(base, `Task?owner:identifier=${ODS_SYSTEM}|RM1`));
  });

  it("patient.identifier finds the caller's patient first; for anyone else, it is an unknown NHS number", async () => {
    const { call, held, second, base } = await withSecondOrder();
    const nhs = examplePatient().identifier?.[0]?.value as string;
    const chain = (value: string) => `Task?patient.identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${value}`)}`;
    const mine = (await (await call(`/fhir/${chain(nhs)}`)).json()) as Bundle;
    expect(matchIds(mine).sort()).toEqual([held.Task.id, second.Task.id].sort());
    expect(selfOf(mine)).toBe(asLink(base, `Task?patient.identifier=${NHS_NUMBER_SYSTEM}|${nhs}`));
    const orders = (await (
      await call(`/fhir/ServiceRequest?patient.identifier=${NHS_NUMBER_SYSTEM}|${nhs}`)
    ).json()) as Bundle;
    expect(matchIds(orders)).toHaveLength(2);
    const answer = async (value: string) => {
      const bundle = (await (await call(`/fhir/${chain(value)}`, { as: OTHER_GP })).json()) as Bundle;
      return { total: bundle.total, entry: bundle.entry };
    };
    // No entries is no entry element: FHIR JSON has no empty arrays.
    expect(await answer(nhs)).toStrictEqual({ total: 0, entry: undefined });
    expect(await answer(testNhsNumber(5))).toEqual(await answer(nhs));
  });

  it('a subset holds on the next pages', async () => {
    const { call, base } = await withSecondOrder();
    const first = (await (await call('/fhir/ServiceRequest?_count=1&_elements=status')).json()) as Bundle;
    const next = first.link?.find((l) => l.relation === 'next')?.url as string;
    expect(next.startsWith(`${base}/ServiceRequest?_page=`)).toBe(true);
    const second = (await (await call(next.slice(base.length - '/fhir'.length))).json()) as Bundle;
    for (const entry of [...(first.entry ?? []), ...(second.entry ?? [])]) {
      expect(Object.keys(entry.resource ?? {}).sort()).toEqual([
        'id',
        'intent',
        'meta',
        'resourceType',
        'status',
        'subject',
      ]);
      expect(isSubsetted(entry.resource)).toBe(true);
    }
    expect(matchIds(second)).toHaveLength(1);
  });

  it('says which handling it applied when asked for one', async () => {
    const { call } = await withSecondOrder();
    const strict = await call('/fhir/Task?status=requested', {
      headers: { Prefer: 'return=minimal, handling=strict' },
    });
    expect([strict.status, strict.headers.get('Preference-Applied')]).toEqual([200, 'handling=strict']);
    expect((await call('/fhir/Task?status=requested')).headers.get('Preference-Applied')).toBeNull();
  });
});

describe('search features, on HAPI', () => {
  const labelled = (code: string) => ({ security: [{ system: ACCESS_SYSTEM, code }] });

  it("keeps out a revincluded resource of another organisation's (HAPI filters only the matches)", async () => {
    const { call } = await overHapi(() =>
      fhir(200, {
        resourceType: 'Bundle',
        type: 'searchset',
        entry: [
          {
            resource: { resourceType: 'ServiceRequest', id: 's1', meta: labelled('N81001') },
            search: { mode: 'match' },
          },
          { resource: { resourceType: 'Task', id: 't1', meta: labelled('N81002') }, search: { mode: 'include' } },
          { resource: { resourceType: 'Task', id: 't2', meta: labelled('N81001') }, search: { mode: 'include' } },
        ],
      }),
    );
    const bundle = (await (await call('/fhir/ServiceRequest?_revinclude=Task:focus')).json()) as Bundle;
    expect(bundle.entry?.map((e) => e.resource?.id)).toEqual(['s1', 't2']);
  });

  it('resolves patient.identifier by a search of Patient within the access filter, then asks for their Tasks', async () => {
    const nhs = `${NHS_NUMBER_SYSTEM}|${testNhsNumber(0)}`;
    const patients = (...entries: [string, string][]) =>
      fhir(200, {
        resourceType: 'Bundle',
        type: 'searchset',
        entry: entries.map(([id, code]) => ({ resource: { resourceType: 'Patient', id, meta: labelled(code) } })),
      });
    const { call, seen } = await overHapi((url) =>
      url.pathname.endsWith('/Patient') ? patients(['p1', 'N81001'], ['p2', 'N81002']) : undefined,
    );
    const res = await call(`/fhir/Task?patient.identifier=${encodeURIComponent(nhs)}&status=requested`);
    expect(res.status).toBe(200);
    const access = `${ACCESS_SYSTEM}|N81001`;
    expect(seen.map((u) => [u.pathname, Object.fromEntries(u.searchParams)])).toEqual([
      ['/fhir/north/Patient', { identifier: nhs, _count: '101', _total: 'none', _security: access }],
      // p2 came back though HAPI should not have sent it: the gateway checks the labels itself.
      ['/fhir/north/Task', { status: 'requested', patient: 'Patient/p1', _security: access }],
    ]);
  });

  it('answers a chain that finds no patient the caller may see without asking for Tasks', async () => {
    const { call, seen } = await overHapi();
    const res = await call(`/fhir/Task?patient.identifier=${NHS_NUMBER_SYSTEM}|${testNhsNumber(0)}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Bundle).entry ?? []).toEqual([]);
    expect(seen.map((u) => u.pathname)).toEqual(['/fhir/north/Patient']);
  });

  it(`refuses a chain that finds more than ${MAX_CHAIN_MATCHES} patients with 400 naming it`, async () => {
    const many = Array.from({ length: MAX_CHAIN_MATCHES + 1 }, (_, i) => ({
      resource: { resourceType: 'Patient', id: `p${i}`, meta: labelled('N81001') },
    }));
    const { call, seen } = await overHapi(() => fhir(200, { resourceType: 'Bundle', type: 'searchset', entry: many }));
    const res = await call(`/fhir/Task?patient.identifier=${NHS_NUMBER_SYSTEM}|`);
    expect(res.status).toBe(400);
    expect((await outcomeOf(res)).issue.map((i) => [i.code, i.expression])).toEqual([
      ['too-costly', ['patient.identifier']],
    ]);
    expect(seen).toHaveLength(1);
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
