import type { AccessTokenContent } from '@imaging/auth';
import { CODE_SYSTEMS, HttpStore, searchAll, SYSTEMS } from '@imaging/fhir';
import type { AuditEvent, Bundle, CapabilityStatement, OperationOutcome } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { GP_TOKEN, HUB_TOKEN, OBSERVER_TOKEN, RIS_TOKEN, testGateway } from '../testing/app.ts';
import { reportedCase } from '../testing/pathway.ts';
import { testRegions } from '../testing/regions.ts';

/**
 * One AuditEvent by its id: what every case trail entry's fullUrl and the flow view's "read it yourself"
 * name. Read by those who may read any case's trail here; refused to everyone else from the token alone.
 */

const AUDITOR: AccessTokenContent = { sub: 'auditor', client_kind: 'observer', scope: ['system/AuditEvent.rs'] };

async function northGateway() {
  const { regions } = await reportedCase();
  const gateway = await testGateway(regions.north);
  const call = async (path: string, as: AccessTokenContent, init: RequestInit = {}) =>
    gateway.app.request(path, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${await gateway.token(as)}` },
    });
  const [order] = (await searchAll<AuditEvent>(regions.north.store, 'AuditEvent')).filter(
    (e) => e.subtype?.[0]?.code === 'order-placed',
  );
  if (!order?.id) throw new Error('the case placed no order');
  return {
    call,
    order: order as AuditEvent & { id: string },
    deps: regions.north,
    disclosures: gateway.disclosures,
    clock: regions.clock,
  };
}

const outcomeOf = async (res: Response) => {
  const body = (await res.json()) as OperationOutcome;
  expect(body.resourceType).toBe('OperationOutcome');
  return body;
};

describe('AuditEvent reads at a gateway', () => {
  it('serves the AuditEvent a case trail names, at the fullUrl the trail gives, to the flow view and auditors', async () => {
    const { call, order } = await northGateway();
    const trail = (await (await call('/fhir/$case-trail?correlation-id=case-1', OBSERVER_TOKEN)).json()) as Bundle;
    const entry = trail.entry?.find((e) => e.resource?.id === order.id);
    expect(entry?.fullUrl).toMatch(new RegExp(`/fhir/AuditEvent/${order.id}/_history/1$`));
    const path = new URL(entry?.fullUrl as string).pathname;
    const hub = { ...HUB_TOKEN, scope: [...HUB_TOKEN.scope, 'system/AuditEvent.rs'] };
    for (const reader of [OBSERVER_TOKEN, AUDITOR, { ...AUDITOR, region: 'north' }, hub]) {
      for (const at of [path, `/fhir/AuditEvent/${order.id}`]) {
        const res = await call(at, reader);
        expect(res.status, `${reader.sub} at ${at}`).toBe(200);
        expect(await res.json()).toEqual(order);
      }
      const history = (await (await call(`/fhir/AuditEvent/${order.id}/_history`, reader)).json()) as Bundle;
      expect(history).toMatchObject({ type: 'history', total: 1 });
      expect(history.entry?.[0]?.resource).toEqual(order);
    }
  });

  it("answers history's _count, _since and _at as every history here does", async () => {
    const { call, order } = await northGateway();
    const history = async (query: string) => {
      const res = await call(`/fhir/AuditEvent/${order.id}/_history${query}`, AUDITOR);
      expect(res.status, await res.clone().text()).toBe(200);
      const bundle = (await res.json()) as Bundle;
      return [bundle.total, (bundle.entry ?? []).map((e) => e.resource?.id)];
    };
    const written = order.meta?.lastUpdated as string;
    const before = new Date(Date.parse(written) - 1000).toISOString();
    expect(await history('?_count=1')).toEqual([1, [order.id]]);
    expect(await history('?_count=0')).toEqual([1, []]);
    expect(await history(`?_since=${encodeURIComponent(written)}`)).toEqual([1, [order.id]]);
    expect(await history(`?_at=${encodeURIComponent(before)}`)).toEqual([0, []]);
    expect(await history(`?_at=${encodeURIComponent(written)}`)).toEqual([1, [order.id]]);
  });

  it('records each read as a disclosure: who read which AuditEvent, and the patient it names', async () => {
    const { call, order, deps, disclosures } = await northGateway();
    expect((await call(`/fhir/AuditEvent/${order.id}/_history/1`, AUDITOR)).status).toBe(200);
    await disclosures.flush();
    const reads = (await searchAll<AuditEvent>(deps.store, 'AuditEvent')).filter(
      (e) => e.subtype?.[0]?.code === 'resource-read',
    );
    expect(reads).toHaveLength(1);
    const named = reads[0]?.entity?.flatMap((e) => (e.what?.reference ? [e.what.reference] : []));
    const patient = order.entity?.find((e) => e.what?.reference?.startsWith('Patient/'))?.what?.reference;
    expect(patient).toBeDefined();
    expect(named).toEqual([patient, `AuditEvent/${order.id}/_history/1`]);
    expect(reads[0]?.agent[0]?.altId).toBe('auditor');
  });

  // From the token alone, before anything is read: a real AuditEvent and an unknown id get the same 403.
  it.each<[string, AccessTokenContent]>([
    ["the case's own organisation (it reads them in the case's trail)", GP_TOKEN],
    ['a client of another region', RIS_TOKEN],
    ['an auditor of another region', { ...AUDITOR, region: 'midlands' }],
    ['an auditor that may read but not search', { ...AUDITOR, scope: ['system/AuditEvent.r'] }],
  ])('refuses %s with a 403 that says nothing about the AuditEvent', async (_, claims) => {
    const { call, order } = await northGateway();
    const answers = [];
    for (const path of [
      `/fhir/AuditEvent/${order.id}`,
      `/fhir/AuditEvent/${order.id}/_history/1`,
      `/fhir/AuditEvent/${order.id}/_history`,
      '/fhir/AuditEvent/no-such-event',
      '/fhir/AuditEvent/no-such-event/_history/1',
      '/fhir/AuditEvent',
      '/fhir/AuditEvent?entity=Patient/anyone&colour=blue',
    ]) {
      const res = await call(path, claims);
      expect(res.status, path).toBe(403);
      answers.push(await res.text());
    }
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).toMatch(/\$case-trail/);
  });

  it.each([
    ['an unknown id', '/fhir/AuditEvent/no-such-event', 404, undefined],
    ['a version that does not exist', (id: string) => `/fhir/AuditEvent/${id}/_history/2`, 404, undefined],
    ['a malformed version id', (id: string) => `/fhir/AuditEvent/${id}/_history/a%20b`, 400, ['vid']],
    ['a malformed id', '/fhir/AuditEvent/a%20b', 400, ['id']],
    [
      'history with a _since that is a date, not an instant',
      (id: string) => `/fhir/AuditEvent/${id}/_history?_since=2026-01-01`,
      400,
      ['_since'],
    ],
    ['history with _list', (id: string) => `/fhir/AuditEvent/${id}/_history?_list=x`, 400, ['_list']],
  ])('answers %s with an OperationOutcome', async (_, path, status, expressions) => {
    const { call, order } = await northGateway();
    const res = await call(typeof path === 'string' ? path : path(order.id), AUDITOR);
    expect(res.status).toBe(status);
    const outcome = await outcomeOf(res);
    if (expressions) expect(outcome.issue.flatMap((i) => i.expression ?? [])).toEqual(expressions);
  });

  it('lets nobody write one, an auditor included', async () => {
    const { call, order, deps } = await northGateway();
    const before = await searchAll<AuditEvent>(deps.store, 'AuditEvent');
    const put = await call(`/fhir/AuditEvent/${order.id}`, AUDITOR, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/fhir+json' },
      body: JSON.stringify({ ...order, outcome: '8' }),
    });
    expect(put.status).toBe(405);
    expect(put.headers.get('Allow')).toBe('GET');
    expect(await searchAll<AuditEvent>(deps.store, 'AuditEvent')).toEqual(before);
  });

  it('declares the reads and the search in the CapabilityStatement', async () => {
    const { call } = await northGateway();
    const statement = (await (await call('/fhir/metadata', AUDITOR)).json()) as CapabilityStatement;
    const audit = statement.rest?.[0]?.resource?.find((r) => r.type === 'AuditEvent');
    expect(audit?.interaction?.map((i) => i.code)).toEqual(['read', 'search-type', 'vread', 'history-instance']);
    expect(audit?.readHistory).toBe(true);
    expect(audit?.searchParam?.map((p) => p.name)).toEqual([
      'date',
      'subtype',
      'entity',
      '_sort',
      '_summary',
      '_elements',
    ]);
  });
});

const SUBTYPE = `${CODE_SYSTEMS.auditSubtype}|`;
const subtypeOf = (e: AuditEvent) => e.subtype?.[0]?.code;
const matches = (bundle: Bundle) => (bundle.entry ?? []).map((e) => e.resource as AuditEvent);

describe('AuditEvent searches at a gateway, for auditors', () => {
  it("answers who read a patient's records: the practice's read, found by the patient and the kind", async () => {
    const { call, order, deps, disclosures } = await northGateway();
    const patient = order.entity?.find((e) => e.what?.reference?.startsWith('Patient/'))?.what?.reference as string;
    const orderRef = order.entity?.find((e) => e.what?.reference?.startsWith('ServiceRequest/'))?.what?.reference;
    const orderId = orderRef?.split('/')[1] as string;
    expect((await call(`/fhir/ServiceRequest/${orderId}`, GP_TOKEN)).status).toBe(200);
    await disclosures.flush();
    const res = await call(`/fhir/AuditEvent?entity=${patient}&subtype=${SUBTYPE}resource-read`, AUDITOR);
    expect(res.status).toBe(200);
    const found = matches((await res.json()) as Bundle);
    expect(found.map((e) => [subtypeOf(e), e.agent[0]?.altId])).toEqual([['resource-read', 'gp-n81001']]);
    // The auditor's search is itself a disclosure: who searched, for what, and which patients it showed.
    await disclosures.flush();
    const searched = (await searchAll<AuditEvent>(deps.store, 'AuditEvent')).filter(
      (e) => subtypeOf(e) === 'resources-searched',
    );
    expect(searched.map((e) => e.agent[0]?.altId)).toEqual(['auditor']);
    const query = searched[0]?.entity?.find((e) => e.query)?.query as string;
    expect(Buffer.from(query, 'base64').toString()).toBe(
      `AuditEvent?entity=${patient}&subtype=${SUBTYPE}resource-read`,
    );
  });

  it("finds a case's AuditEvents by its correlation id, and a patient's within a date range, newest first", async () => {
    const { call, order, disclosures, clock } = await northGateway();
    const inCase = await call(`/fhir/AuditEvent?entity:identifier=${SYSTEMS.correlation}|case-1`, AUDITOR);
    const trail = matches((await inCase.json()) as Bundle);
    expect(trail.map(subtypeOf)).toContain('order-placed');
    const placed = order.recorded;
    // An hour later the practice reads its order again: a disclosure recorded then.
    clock.advance(3600);
    const orderId = order.entity?.find((e) => e.what?.reference?.startsWith('ServiceRequest/'))?.what?.reference;
    expect((await call(`/fhir/${orderId?.replace(/\/_history\/\d+$/, '')}`, GP_TOKEN)).status).toBe(200);
    await disclosures.flush();
    const patient = order.entity?.find((e) => e.what?.reference?.startsWith('Patient/'))?.what?.reference as string;
    const search = async (query: string) =>
      matches((await (await call(`/fhir/AuditEvent?entity=${patient}&${query}`, AUDITOR)).json()) as Bundle);
    const newestFirst = await search('_sort=-date');
    expect(newestFirst[0]).toMatchObject({ subtype: [{ code: 'resource-read' }], agent: [{ altId: 'gp-n81001' }] });
    expect(newestFirst.map((e) => e.recorded)).toEqual(
      newestFirst
        .map((e) => e.recorded)
        .sort()
        .reverse(),
    );
    expect((await search(`date=gt${placed}`)).map(subtypeOf)).toEqual(['resource-read']);
    const before = await search(`date=le${placed}`);
    expect(before.map(subtypeOf)).toContain('order-placed');
    expect(before.map(subtypeOf)).not.toContain('resource-read');
    expect(await search(`date=ge${placed}&date=lt2000-01-01`)).toEqual([]);
  });

  it('answers _count=0 as _summary=count: the total, no entries (R4 search.html#count)', async () => {
    const { call, order } = await northGateway();
    const patient = order.entity?.find((e) => e.what?.reference?.startsWith('Patient/'))?.what?.reference as string;
    const counted = (await (await call(`/fhir/AuditEvent?entity=${patient}&_summary=count`, AUDITOR)).json()) as Bundle;
    expect(counted.total).toBeGreaterThan(0);
    const res = await call(`/fhir/AuditEvent?entity=${patient}&_count=0`, AUDITOR);
    expect(res.status).toBe(200);
    const zero = (await res.json()) as Bundle;
    expect([zero.total, zero.entry ?? [], zero.link?.map((l) => l.relation)]).toEqual([counted.total, [], ['self']]);
  });

  it('pages by a signed link that only the auditor it was given to can follow', async () => {
    const { call } = await northGateway();
    const first = (await (await call('/fhir/AuditEvent?_count=1', AUDITOR)).json()) as Bundle;
    expect(first.entry).toHaveLength(1);
    const next = first.link?.find((l) => l.relation === 'next')?.url as string;
    expect(next).toMatch(/\/fhir\/AuditEvent\?_page=/);
    const path = new URL(next).pathname + new URL(next).search;
    const second = (await (await call(path, AUDITOR)).json()) as Bundle;
    expect(second.entry?.[0]?.resource?.id).not.toBe(first.entry?.[0]?.resource?.id);
    const other = await call(path, { ...AUDITOR, sub: 'another-auditor' });
    expect(other.status).toBe(400);
    expect((await outcomeOf(other)).issue[0]?.expression).toEqual(['_page']);
  });

  it.each([
    ['a parameter it does not answer', 'agent=Practitioner/x', ['agent']],
    ['an _include, whatever Prefer says', '_include=AuditEvent:entity', ['_include']],
    ['a malformed date', 'date=yesterday', ['date']],
    ['a modifier it does not answer', 'subtype:text=read', ['subtype']],
    ['a _count out of range', '_count=-1', ['_count']],
    ['_count=0 (_summary=count) with another _summary', '_count=0&_summary=true', ['_count']],
  ])('refuses %s with a 400 naming it, before the store is asked', async (_, query, expressions) => {
    const { call } = await northGateway();
    const res = await call(`/fhir/AuditEvent?${query}`, AUDITOR, { headers: { Prefer: 'handling=lenient' } });
    expect(res.status).toBe(400);
    expect((await outcomeOf(res)).issue.flatMap((i) => i.expression ?? [])).toEqual(expressions);
  });
});

describe('AuditEvent reads on HAPI', () => {
  it('reads and searches HAPI for an auditor, and asks HAPI nothing for a refused token, a malformed version or search', async () => {
    const event: AuditEvent = {
      resourceType: 'AuditEvent',
      id: 'a1',
      meta: { versionId: '1' },
      type: { code: 'rest' },
      recorded: '2026-12-02T10:00:00Z',
      agent: [{ requestor: true }],
      source: { observer: { display: 'north' } },
    };
    const seen: string[] = [];
    const seenQueries: string[] = [];
    const fetch = (async (input: string | URL | Request) => {
      const url = new URL(String(input));
      seen.push(url.pathname);
      seenQueries.push(url.search);
      const body = url.pathname.endsWith('/_history')
        ? { resourceType: 'Bundle', type: 'history', entry: [{ resource: event }] }
        : url.pathname.endsWith('/AuditEvent')
          ? { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: event }] }
          : event;
      return new Response(JSON.stringify(body), { headers: { 'Content-Type': 'application/fhir+json' } });
    }) as typeof globalThis.fetch;
    const deps = testRegions().open('north', new HttpStore({ baseUrl: 'http://hapi.internal:8080/fhir/north', fetch }));
    const gateway = await testGateway(deps);
    const as = async (claims: AccessTokenContent) => ({ Authorization: `Bearer ${await gateway.token(claims)}` });

    const read = await gateway.app.request('/fhir/AuditEvent/a1/_history/1', { headers: await as(AUDITOR) });
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual(event);
    expect(seen).toEqual(['/fhir/north/AuditEvent/a1/_history']);

    seen.length = 0;
    expect((await gateway.app.request('/fhir/AuditEvent/a1', { headers: await as(GP_TOKEN) })).status).toBe(403);
    const malformed = await gateway.app.request('/fhir/AuditEvent/a1/_history/a%20b', { headers: await as(AUDITOR) });
    expect(malformed.status).toBe(400);
    const badSearch = await gateway.app.request('/fhir/AuditEvent?agent=x', { headers: await as(AUDITOR) });
    expect(badSearch.status).toBe(400);
    expect(seen).toEqual([]);

    const search = await gateway.app.request('/fhir/AuditEvent?subtype=resource-read&date=ge2026-12-01', {
      headers: await as(AUDITOR),
    });
    expect(search.status).toBe(200);
    expect(((await search.json()) as Bundle).entry?.map((e) => e.resource)).toEqual([event]);
    expect(seen.at(-1)).toBe('/fhir/north/AuditEvent');
    expect(new URLSearchParams(seenQueries.at(-1)).toString()).toMatch(/^subtype=resource-read&date=ge2026-12-01/);
  });
});
