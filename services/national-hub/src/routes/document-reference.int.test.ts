import { CODE_SYSTEMS, NHS_NUMBER_SYSTEM, SYSTEMS, testNhsNumber } from '@imaging/fhir';
import { exampleDiagnosticReport, exampleImagingStudy } from '@imaging/fhir/examples';
import type { AuditEvent, Bundle, DocumentReference, ImagingStudy, OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { TestHub } from '../testing/index.ts';
import { createTestHub, deadUrl, startFakeRegion, tempDataDir, topologyWith } from '../testing/index.ts';

const temp = tempDataDir();
const north = await startFakeRegion('imaging-north');
const southUrl = await deadUrl();
const hub: TestHub = await createTestHub({
  dataDir: temp.dir,
  topology: topologyWith({ north: north.url, south: southUrl }),
  forwardTimeoutMs: 500,
});
north.trust(hub);
afterAll(async () => {
  await north.close();
  temp.remove();
});
beforeEach(() => {
  north.received.length = 0;
  north.behave('accept');
});

/** A pointer as the gateway's buildPointer makes it. */
function pointer(
  region: string,
  gatewayUrl: string,
  kind: 'ImagingStudy' | 'DiagnosticReport',
  id: string,
  nhsNumber = testNhsNumber(0),
): DocumentReference {
  const url = `${gatewayUrl}/fhir/${kind}/${id}`;
  return {
    resourceType: 'DocumentReference',
    masterIdentifier: { system: SYSTEMS.pointerSource, value: url },
    status: 'current',
    type: { coding: [{ system: CODE_SYSTEMS.pointerKind, code: kind }] },
    subject: { type: 'Patient', identifier: { system: NHS_NUMBER_SYSTEM, value: nhsNumber } },
    date: '2026-11-23T09:00:00Z',
    custodian: { identifier: { system: SYSTEMS.region, value: region } },
    description: 'CT chest',
    content: [{ attachment: { contentType: 'application/fhir+json', url } }],
  };
}

async function register(
  body: unknown,
  client = 'gateway-north',
  headers: Record<string, string> = {},
): Promise<Response> {
  return hub.app.request('/fhir/DocumentReference', {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${await hub.tokenFor(client)}`,
      'Content-Type': 'application/fhir+json',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function get(path: string, client = 'clinician-rs1', headers: Record<string, string> = {}): Promise<Response> {
  return hub.app.request(path, { headers: { Authorization: `Bearer ${await hub.tokenFor(client)}`, ...headers } });
}

const byNhs = (nhs: string) =>
  `/fhir/DocumentReference?subject:identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${nhs}`)}`;
const pointersInStore = async () =>
  (await hub.store.search<DocumentReference>('DocumentReference', { _count: '1000' })).resources;
const audits = async (subtype: string) =>
  (
    await hub.store.search<AuditEvent>('AuditEvent', {
      subtype: `${CODE_SYSTEMS.auditSubtype}|${subtype}`,
      _count: '1000',
    })
  ).resources;
const issues = async (res: Response) => ((await res.json()) as OperationOutcome).issue ?? [];

describe('registering a pointer', () => {
  it('creates it (201), and a repeat returns the same pointer (200): one pointer in all', async () => {
    const body = pointer('north', north.url, 'ImagingStudy', 'study-1');
    const first = await register(body, 'gateway-north', {
      'X-Request-ID': 'ptr-req-1',
      'X-Correlation-ID': 'case-ptr',
    });
    expect(first.status).toBe(201);
    expect(first.headers.get('X-Request-ID')).toBe('ptr-req-1');
    const created = (await first.json()) as DocumentReference;
    expect(first.headers.get('Location')).toBe(`http://127.0.0.1:4000/fhir/DocumentReference/${created.id}/_history/1`);
    expect(created.masterIdentifier?.value).toBe(`${north.url}/fhir/ImagingStudy/study-1`);

    const again = await register(body, 'gateway-north', {
      'X-Request-ID': 'ptr-req-1',
      'X-Correlation-ID': 'case-ptr',
    });
    expect(again.status).toBe(200);
    expect(((await again.json()) as DocumentReference).id).toBe(created.id);
    expect(
      (await pointersInStore()).filter((p) => p.masterIdentifier?.value === body.masterIdentifier?.value),
    ).toHaveLength(1);

    const registered = (await audits('pointer-registered')).filter((a) =>
      a.entity?.some((e) => e.what?.identifier?.value === 'ptr-req-1'),
    );
    expect(registered).toHaveLength(1);
  });

  it('answers as Prefer asks, with the version headers whatever the body', async () => {
    const body = pointer('north', north.url, 'ImagingStudy', 'study-prefer');
    const minimal = await register(body, 'gateway-north', { Prefer: 'return=minimal' });
    expect(minimal.status).toBe(201);
    expect(await minimal.text()).toBe('');
    expect(minimal.headers.get('ETag')).toBe('W/"1"');
    const location = minimal.headers.get('Location') as string;
    expect(location).toMatch(/^http:\/\/127\.0\.0\.1:4000\/fhir\/DocumentReference\/[^/]+\/_history\/1$/);
    const again = await register(body, 'gateway-north', { Prefer: 'return=OperationOutcome' });
    expect(again.status).toBe(200);
    expect(again.headers.get('Location')).toBe(location);
    expect((await issues(again))[0]).toMatchObject({ severity: 'information', code: 'informational' });
  });

  it("refuses a pointer into another region's gateway, or for another custodian (403), storing nothing", async () => {
    const before = (await pointersInStore()).length;
    const foreignUrl = await register(pointer('north', 'http://127.0.0.1:4102', 'ImagingStudy', 'x'));
    expect(foreignUrl.status).toBe(403);
    expect((await issues(foreignUrl))[0]?.expression).toEqual(['DocumentReference.content[0].attachment.url']);
    const foreignCustodian = await register(pointer('midlands', north.url, 'ImagingStudy', 'x'));
    expect(foreignCustodian.status).toBe(403);
    expect((await issues(foreignCustodian))[0]?.expression).toEqual(['DocumentReference.custodian']);
    expect(await pointersInStore()).toHaveLength(before);
  });

  it('refuses a pointer naming any content outside its own gateway, or carrying content itself (403), audited', async () => {
    const before = (await pointersInStore()).length;
    const refusedBefore = (await audits('pointer-registered')).filter((a) => a.outcome !== '0').length;
    const own = pointer('north', north.url, 'ImagingStudy', 'two-urls');
    const second = await register({
      ...own,
      content: [
        ...(own.content ?? []),
        { attachment: { contentType: 'application/fhir+json', url: 'http://127.0.0.1:4102/fhir/ImagingStudy/x' } },
      ],
    });
    expect(second.status).toBe(403);
    expect((await issues(second))[0]?.expression).toEqual(['DocumentReference.content[1].attachment.url']);
    const inline = await register({
      ...own,
      content: [{ attachment: { ...own.content?.[0]?.attachment, data: btoa('{"resourceType":"ImagingStudy"}') } }],
    });
    expect(inline.status).toBe(403);
    expect((await issues(inline))[0]?.expression).toEqual(['DocumentReference.content[0].attachment.data']);
    expect(await pointersInStore()).toHaveLength(before);

    const refused = (await audits('pointer-registered')).filter((a) => a.outcome !== '0');
    expect(refused).toHaveLength(refusedBefore + 2);
    expect(refused.at(-1)).toMatchObject({ outcome: '4', agent: [{ altId: 'gateway-north' }, {}] });
    expect(refused.at(-1)?.outcomeDesc).toContain('content');
  });

  it('refuses a pointer without a (valid) NHS number, or with parts missing (422, one issue each)', async () => {
    const { subject: _subject, ...anonymous } = pointer('north', north.url, 'ImagingStudy', 'anon');
    const missing = await register(anonymous);
    expect(missing.status).toBe(422);
    expect((await issues(missing)).map((i) => i.expression?.[0])).toEqual(['DocumentReference.subject']);

    const badNumber = await register(pointer('north', north.url, 'ImagingStudy', 'bad', '9990000019'));
    expect(badNumber.status).toBe(422);
    expect((await issues(badNumber)).map((i) => i.expression?.[0])).toEqual([
      'DocumentReference.subject.identifier.value',
    ]);

    const bare = {
      ...pointer('north', north.url, 'ImagingStudy', 'bare'),
      type: { text: 'a study' },
      custodian: { display: 'north' },
    };
    const res = await register(bare);
    expect(res.status).toBe(422);
    expect((await issues(res)).map((i) => i.expression?.[0])).toEqual([
      'DocumentReference.type',
      'DocumentReference.custodian',
    ]);

    const wrongKind = await register({
      ...pointer('north', north.url, 'DiagnosticReport', 'r'),
      type: { coding: [{ system: CODE_SYSTEMS.pointerKind, code: 'ImagingStudy' }] },
    });
    expect(wrongKind.status).toBe(422);

    // A dot segment is a FHIR id's shape, but in the URL it names the gateway's base or search, not a result.
    for (const dots of ['.', '..']) {
      const res = await register(pointer('north', north.url, 'DiagnosticReport', dots));
      expect(res.status, dots).toBe(422);
      expect((await issues(res)).map((i) => i.expression?.[0])).toEqual([
        'DocumentReference.content[0].attachment.url',
      ]);
    }
  });

  it('refuses a repeat for another patient (409), audited: the pointer held stands, for the patient it names', async () => {
    const first = await register(pointer('north', north.url, 'DiagnosticReport', 'next-id', testNhsNumber(8)));
    expect(first.status).toBe(201);
    const held = (await first.json()) as DocumentReference;
    const other = await register(
      pointer('north', north.url, 'DiagnosticReport', 'next-id', testNhsNumber(9)),
      undefined,
      {
        'X-Request-ID': 'ptr-other-patient',
      },
    );
    expect(other.status).toBe(409);
    expect((await issues(other))[0]?.details?.text).toBe(
      `${north.url}/fhir/DiagnosticReport/next-id is already registered for another patient: the pointer held for it stands, and this one is not registered`,
    );
    const stored = (await pointersInStore()).filter((p) => p.masterIdentifier?.value?.endsWith('/next-id'));
    expect(stored.map((p) => [p.subject?.identifier?.value, p.meta?.versionId])).toEqual([[testNhsNumber(8), '1']]);
    expect((await get(byNhs(testNhsNumber(9)))).status).toBe(200);
    expect(((await (await get(byNhs(testNhsNumber(9)))).json()) as Bundle).total).toBe(0);
    const refused = (await audits('pointer-registered')).find((a) =>
      a.entity?.some((e) => e.what?.identifier?.value === 'ptr-other-patient'),
    );
    expect(refused?.outcome).not.toBe('0');
    expect(refused?.entity?.some((e) => e.what?.identifier?.value === testNhsNumber(9))).toBe(true);
    // The same patient again is the idempotent repeat it always was.
    const again = await register(pointer('north', north.url, 'DiagnosticReport', 'next-id', testNhsNumber(8)));
    expect([again.status, ((await again.json()) as DocumentReference).id]).toEqual([200, held.id]);
  });

  it('refuses a pointer that lists another source URL among its identifiers (422): it would claim that pointer first', async () => {
    const theirs = pointer('south', southUrl, 'DiagnosticReport', 'squatted');
    const squat = {
      ...pointer('north', north.url, 'DiagnosticReport', 'squatter'),
      identifier: [{ system: 'urn:ietf:rfc:3986', value: 'urn:uuid:1' }, theirs.masterIdentifier],
    };
    const before = (await pointersInStore()).length;
    const refused = await register(squat);
    expect(refused.status).toBe(422);
    expect((await issues(refused)).map((i) => i.expression?.[0])).toEqual(['DocumentReference.identifier[1]']);
    expect((await pointersInStore()).length).toBe(before);
    // The south's own registration of it is a new pointer, the south's.
    const registered = await register(theirs, 'gateway-south');
    expect(registered.status).toBe(201);
    expect(((await registered.json()) as DocumentReference).custodian?.identifier?.value).toBe('south');
  });

  it('refuses what is not a well-formed DocumentReference (400)', async () => {
    expect((await register('{')).status).toBe(400);
    const deep = await register(
      `{"resourceType":"DocumentReference","contained":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
    );
    expect(deep.status).toBe(400);
    expect((await issues(deep))[0]?.details?.text).toBe('JSON nested deeper than 64 levels');
    expect((await register({ resourceType: 'Patient' })).status).toBe(400);
    const unknownElement = await register({ ...pointer('north', north.url, 'ImagingStudy', 'odd'), colour: 'blue' });
    expect(unknownElement.status).toBe(400);
  });

  it('only gateways with the create scope register (403)', async () => {
    const res = await register(pointer('north', north.url, 'ImagingStudy', 'by-clinician'), 'clinician-rs1');
    expect(res.status).toBe(403);
  });
});

describe("finding a patient's imaging", () => {
  const nhs = testNhsNumber(3);
  const registered: string[] = [];
  beforeEach(async () => {
    if (registered.length) return;
    for (const [kind, id] of [
      ['ImagingStudy', 'p3-study-1'],
      ['ImagingStudy', 'p3-study-2'],
      ['DiagnosticReport', 'p3-report-1'],
    ] as const) {
      const res = await register(pointer('north', north.url, kind, id, nhs));
      registered.push(((await res.json()) as DocumentReference).id as string);
    }
  });

  it('returns the pointers for an NHS number, and audits the disclosure to the caller', async () => {
    const res = await get(byNhs(nhs), 'clinician-rs1', {
      'X-Request-ID': 'search-1',
      'X-Correlation-ID': 'case-search',
    });
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as Bundle;
    expect(bundle.type).toBe('searchset');
    expect(bundle.entry?.map((e) => e.resource?.id).sort()).toEqual([...registered].sort());
    expect(bundle.entry?.every((e) => (e.resource as DocumentReference).subject?.identifier?.value === nhs)).toBe(true);

    const event = (await audits('pointers-disclosed')).find((a) =>
      a.entity?.some((e) => e.what?.identifier?.value === 'search-1'),
    );
    expect(event).toBeDefined();
    const recipient = event?.agent.find((a) => a.requestor);
    expect(recipient).toMatchObject({ altId: 'clinician-rs1', who: { identifier: { value: 'RS1' } } });
    expect(
      event?.entity
        ?.filter((e) => e.what?.identifier?.system === NHS_NUMBER_SYSTEM)
        .map((e) => e.what?.identifier?.value),
    ).toEqual([nhs]);
    expect(event?.entity?.filter((e) => e.what?.reference?.startsWith('DocumentReference/'))).toHaveLength(3);
    const query = event?.entity?.find((e) => e.query);
    expect(Buffer.from(query?.query ?? '', 'base64').toString()).toContain(nhs);
  });

  it("gives each patient their own pointers and never another patient's", async () => {
    const other = testNhsNumber(4);
    const res = await register(pointer('north', north.url, 'ImagingStudy', 'p4-study-1', other));
    const theirs = ((await res.json()) as DocumentReference).id;
    const mine = (await (await get(byNhs(nhs))).json()) as Bundle;
    expect(mine.entry?.map((e) => e.resource?.id).sort()).toEqual([...registered].sort());
    const found = (await (await get(byNhs(other))).json()) as Bundle;
    expect(found.entry?.map((e) => e.resource?.id)).toEqual([theirs]);
    expect((found.entry?.[0]?.resource as DocumentReference | undefined)?.subject?.identifier?.value).toBe(other);
  });

  it("answers the chain HAPI's client writes (subject.identifier) as subject:identifier, one patient at a time", async () => {
    const nhsToken = encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${nhs}`);
    for (const key of ['subject.identifier', 'patient.identifier', 'patient:identifier']) {
      const found = (await (await get(`/fhir/DocumentReference?${key}=${nhsToken}`)).json()) as Bundle;
      expect(found.entry?.map((e) => e.resource?.id).sort(), key).toEqual([...registered].sort());
    }
    const other = encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${testNhsNumber(4)}`);
    const two = await get(`${byNhs(nhs)}&subject.identifier=${other}`);
    expect(two.status).toBe(400);
    expect((await issues(two))[0]?.diagnostics).toMatch(/^Search for one patient/);
  });

  it('narrows by kind, and pages with page tokens', async () => {
    const studies = (await (await get(`${byNhs(nhs)}&type=ImagingStudy`)).json()) as Bundle;
    expect(studies.entry).toHaveLength(2);
    const first = (await (await get(`${byNhs(nhs)}&_count=2`, 'gateway-midlands')).json()) as Bundle;
    expect(first.entry).toHaveLength(2);
    const next = first.link?.find((l) => l.relation === 'next')?.url as string;
    const second = await get(next.replace('http://127.0.0.1:4000', ''), 'gateway-midlands');
    expect(second.status).toBe(200);
    const ids = [...(first.entry ?? []), ...(((await second.json()) as Bundle).entry ?? [])].map((e) => e.resource?.id);
    expect(ids.sort()).toEqual([...registered].sort());
    expect((await get(next.replace('http://127.0.0.1:4000', ''), 'clinician-rs1')).status).toBe(400);
    // A continuation of this search cannot be replayed through another type's endpoint (skipping the audit).
    const replayed = await get(
      next.replace('http://127.0.0.1:4000/fhir/DocumentReference', '/fhir/Organization'),
      'gateway-midlands',
    );
    expect(replayed.status).toBe(400);
  });

  it('answers _count=0 as _summary=count: how many pointers the patient has, none of them shown, and audits it', async () => {
    const res = await get(`${byNhs(nhs)}&_count=0`, 'clinician-rs1', { 'X-Request-ID': 'count-0' });
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as Bundle;
    expect(bundle.total).toBe(registered.length);
    expect(bundle.entry ?? []).toEqual([]);
    expect(bundle.link?.map((l) => l.relation)).toEqual(['self']);
    const event = (await audits('pointers-disclosed')).find((a) =>
      a.entity?.some((e) => e.what?.identifier?.value === 'count-0'),
    );
    expect(event?.entity?.filter((e) => e.what?.reference?.startsWith('DocumentReference/'))).toEqual([]);
  });

  it('a search without a patient is refused (400): no fishing', async () => {
    const none = await get('/fhir/DocumentReference');
    expect(none.status).toBe(400);
    expect((await issues(none))[0]?.expression).toEqual(['subject:identifier']);
    const byType = await get('/fhir/DocumentReference?type=ImagingStudy');
    expect(byType.status).toBe(400);
    const invalidNumber = await get(byNhs('1234567890'));
    expect(invalidNumber.status).toBe(400);
    for (const count of ['-1', '101', '1e1']) {
      const badCount = await get(`${byNhs(nhs)}&_count=${count}`);
      expect(badCount.status).toBe(400);
      expect((await issues(badCount)).map((i) => i.expression?.[0])).toEqual(['_count']);
    }
    const otherParam = await get(`${byNhs(nhs)}&custodian=north`);
    expect(otherParam.status).toBe(400);
    expect((await issues(otherParam)).map((i) => i.expression?.[0])).toEqual(['custodian']);
  });

  it('referrers hold no locator scope (403); a pointer is read by id, and an unknown id is 404', async () => {
    expect((await get(byNhs(nhs), 'gp-n81001')).status).toBe(403);
    const one = await get(`/fhir/DocumentReference/${registered[0]}`);
    expect(one.status).toBe(200);
    expect((await get('/fhir/DocumentReference/no-such-pointer')).status).toBe(404);
  });

  it('a pointer is known only by the id the hub handed out: its store id, or a guessed tag, reads nothing (404)', async () => {
    // A store may number pointers in sequence (HAPI FHIR does): counting must not read them.
    const given = registered[0] as string;
    const [stored] = (await pointersInStore()).filter((p) => given.startsWith(`${p.id}-`));
    if (!stored) throw new Error('the registered pointer is not in the store under its store id');
    const tag = given.slice(stored.id.length + 1);
    expect(tag).toMatch(/^[0-9a-f]{24}$/);
    const forged = `${stored.id}-${tag.replace(/^./, (c) => (c === '0' ? '1' : '0'))}`;
    const disclosedBefore = (await audits('pointers-disclosed')).length;
    for (const id of [stored.id, forged, `${stored.id}-`]) {
      for (const path of [`/fhir/DocumentReference/${id}`, `/fhir/DocumentReference/${id}/_history`]) {
        const res = await get(path);
        expect(res.status, path).toBe(404);
        expect(await res.text()).not.toContain(nhs);
      }
      expect((await get(`/fhir/DocumentReference/${id}/$retrieve`)).status).toBe(404);
    }
    expect(north.received).toHaveLength(0);
    expect(await audits('pointers-disclosed')).toHaveLength(disclosedBefore);
    // The search hands out the same ids the registration did.
    const found = ((await (await get(byNhs(nhs))).json()) as Bundle).entry?.map((e) => e.resource?.id);
    expect(found).toContain(given);
  });
});

describe("a pointer's versions", () => {
  it("a registration's Location is a version that vread answers; history lists it; both are audited", async () => {
    const res = await register(pointer('north', north.url, 'ImagingStudy', 'versions-study', testNhsNumber(5)));
    expect(res.status).toBe(201);
    const created = (await res.json()) as DocumentReference;
    const location = new URL(res.headers.get('Location') as string);
    expect(location.pathname).toBe(`/fhir/DocumentReference/${created.id}/_history/1`);

    const read = await get(location.pathname, 'clinician-rs1', { 'X-Request-ID': 'vread-1' });
    expect(read.status).toBe(200);
    expect(read.headers.get('ETag')).toBe('W/"1"');
    expect(await read.json()).toEqual(created);
    const history = await get(`/fhir/DocumentReference/${created.id}/_history`, 'clinician-rs1', {
      'X-Request-ID': 'history-1',
    });
    expect(history.status).toBe(200);
    expect((await history.json()) as Bundle).toMatchObject({
      type: 'history',
      total: 1,
      entry: [{ resource: created, request: { method: 'POST' }, response: { etag: 'W/"1"' } }],
    });
    for (const [requestId, asked] of [
      ['vread-1', '_history/1'],
      ['history-1', '_history'],
    ]) {
      const event = (await audits('pointers-disclosed')).find((a) =>
        a.entity?.some((e) => e.what?.identifier?.value === requestId),
      );
      expect(event?.agent.find((a) => a.requestor)?.altId, requestId).toBe('clinician-rs1');
      // An AuditEvent names the pointer as the hub's store holds it (the id a client knows, less its tag).
      const storeId = (created.id as string).slice(0, (created.id as string).lastIndexOf('-'));
      expect(event?.entity?.map((e) => e.what?.reference).filter(Boolean)).toEqual([`DocumentReference/${storeId}`]);
      const query = event?.entity?.find((e) => e.query)?.query ?? '';
      expect(Buffer.from(query, 'base64').toString()).toBe(asked);
    }
  });

  it("answers _count, _since and _at on a pointer's history, and audits only the versions shown", async () => {
    const res = await register(pointer('north', north.url, 'ImagingStudy', 'versions-paged', testNhsNumber(7)));
    const id = ((await res.json()) as DocumentReference).id as string;
    const storeId = id.slice(0, id.lastIndexOf('-'));
    const stored = await hub.store.read<DocumentReference>('DocumentReference', storeId);
    const amended = await hub.store.update({ ...stored, description: 'CT chest, amended' });
    const history = async (query: string, requestId = 'history-any') => {
      const answer = await get(`/fhir/DocumentReference/${id}/_history${query}`, 'clinician-rs1', {
        'X-Request-ID': requestId,
      });
      expect(answer.status, await answer.clone().text()).toBe(200);
      const bundle = (await answer.json()) as Bundle;
      return {
        total: bundle.total,
        versions: (bundle.entry ?? []).map((e) => e.resource?.meta?.versionId),
        next: bundle.link?.find((l) => l.relation === 'next')?.url,
      };
    };
    const first = await history('?_count=1', 'history-page-1');
    expect(first).toEqual({
      total: 2,
      versions: ['2'],
      next: `http://127.0.0.1:4000/fhir/DocumentReference/${id}/_history?_count=1&_offset=1`,
    });
    expect(await history(new URL(first.next as string).search)).toEqual({ total: 2, versions: ['1'], next: undefined });
    const since = encodeURIComponent(amended.meta?.lastUpdated as string);
    expect((await history(`?_since=${since}`)).versions).toEqual(['2']);
    expect((await history(`?_at=${encodeURIComponent(stored.meta?.lastUpdated as string)}`)).versions).toEqual(['1']);
    const event = (await audits('pointers-disclosed')).find((a) =>
      a.entity?.some((e) => e.what?.identifier?.value === 'history-page-1'),
    );
    expect(event?.entity?.map((e) => e.what?.reference).filter(Boolean)).toEqual([`DocumentReference/${storeId}`]);
  });

  it('is read as the pointer is: referrers 403, an unknown pointer or version 404, a malformed version or a parameter 400', async () => {
    const res = await register(pointer('north', north.url, 'DiagnosticReport', 'versions-report', testNhsNumber(6)));
    const id = ((await res.json()) as DocumentReference).id as string;
    expect((await get(`/fhir/DocumentReference/${id}/_history/1`, 'gp-n81001')).status).toBe(403);
    expect((await get(`/fhir/DocumentReference/${id}/_history`, 'gp-n81001')).status).toBe(403);
    expect((await get('/fhir/DocumentReference/no-such-pointer/_history/1')).status).toBe(404);
    expect((await get('/fhir/DocumentReference/no-such-pointer/_history')).status).toBe(404);
    const missing = await get(`/fhir/DocumentReference/${id}/_history/2`);
    expect(missing.status).toBe(404);
    expect((await issues(missing))[0]?.diagnostics).toBe('No version 2 of this DocumentReference is visible to you');
    const malformed = await get(`/fhir/DocumentReference/${id}/_history/a%20b`);
    expect(malformed.status).toBe(400);
    expect((await issues(malformed))[0]?.expression).toEqual(['vid']);
    // _since is an instant: a date alone is malformed.
    const since = await get(`/fhir/DocumentReference/${id}/_history?_since=2026-01-01`);
    expect(since.status).toBe(400);
    expect((await issues(since))[0]?.expression).toEqual(['_since']);
    const list = await get(`/fhir/DocumentReference/${id}/_history?_list=x`);
    expect(list.status).toBe(400);
    expect((await issues(list))[0]?.expression).toEqual(['_list']);
  });
});

describe('$retrieve', () => {
  // As the source gateway answers the hub: the subject names the patient's NHS number too.
  const forPatient = (nhsNumber: string): ImagingStudy => {
    const base = exampleImagingStudy();
    return {
      ...base,
      id: 'retrieve-study',
      subject: { ...base.subject, identifier: { system: NHS_NUMBER_SYSTEM, value: nhsNumber } },
    };
  };
  const study = forPatient(testNhsNumber(5));
  let pointerId = '';
  beforeEach(async () => {
    north.resources.set('ImagingStudy/retrieve-study', study);
    north.resources.set('ImagingStudy/elsewhere', study);
    if (pointerId) return;
    const res = await register(pointer('north', north.url, 'ImagingStudy', 'retrieve-study', testNhsNumber(5)));
    pointerId = ((await res.json()) as DocumentReference).id as string;
  });

  it('fetches the resource from its source region with the hub token and returns it as it is; nothing is stored', async () => {
    const res = await get(`/fhir/DocumentReference/${pointerId}/$retrieve`, 'clinician-rs1', {
      'X-Request-ID': 'retrieve-1',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(study);
    expect(north.received).toHaveLength(1);
    expect(north.received[0]).toMatchObject({
      method: 'GET',
      path: '/fhir/ImagingStudy/retrieve-study',
      claims: { sub: 'national-hub', client_kind: 'hub' },
    });
    expect((await hub.store.search('ImagingStudy', {})).resources).toHaveLength(0);

    const event = (await audits('content-retrieved')).find((a) =>
      a.entity?.some((e) => e.what?.identifier?.value === 'retrieve-1'),
    );
    expect(event?.outcome).toBe('0');
    expect(event?.action).toBe('R');
    const source = event?.agent.find((a) => !a.requestor);
    expect(source?.who?.identifier).toEqual({ system: SYSTEMS.region, value: 'north' });
    expect(event?.agent.find((a) => a.requestor)?.altId).toBe('clinician-rs1');
    expect(event?.entity?.map((e) => e.what?.identifier?.value)).toContain(
      `${north.url}/fhir/ImagingStudy/retrieve-study`,
    );
    expect(event?.entity?.map((e) => e.what?.identifier?.value)).toContain(testNhsNumber(5));
  });

  it('a source region that is down is 503, audited as a failure', async () => {
    const res = await register(pointer('south', southUrl, 'DiagnosticReport', 'r-1'), 'gateway-south');
    expect(res.status).toBe(201);
    const id = ((await res.json()) as DocumentReference).id as string;
    const retrieved = await get(`/fhir/DocumentReference/${id}/$retrieve`, 'clinician-rs1', {
      'X-Request-ID': 'retrieve-down',
    });
    expect(retrieved.status).toBe(503);
    expect(((await retrieved.json()) as OperationOutcome).id).toBe('unavailable');
    const event = (await audits('content-retrieved')).find((a) =>
      a.entity?.some((e) => e.what?.identifier?.value === 'retrieve-down'),
    );
    expect(event?.outcome).toBe('8');
  });

  it('a source that no longer has it is 404; a failing source is 502; an unknown pointer is 404', async () => {
    north.resources.delete('ImagingStudy/retrieve-study');
    expect((await get(`/fhir/DocumentReference/${pointerId}/$retrieve`)).status).toBe(404);
    north.resources.set('ImagingStudy/retrieve-study', study);
    north.behave('fail');
    expect((await get(`/fhir/DocumentReference/${pointerId}/$retrieve`)).status).toBe(502);
    expect((await get('/fhir/DocumentReference/nope/$retrieve')).status).toBe(404);
  });

  it('a source answering with another kind of resource is 502', async () => {
    north.resources.set('ImagingStudy/retrieve-study', { ...exampleDiagnosticReport(), id: 'retrieve-study' });
    expect((await get(`/fhir/DocumentReference/${pointerId}/$retrieve`)).status).toBe(502);
  });

  /** The answer to $retrieve, and the outcome of the content-retrieved AuditEvent it left. */
  const retrieveOutcome = async (requestId: string) => {
    const res = await get(`/fhir/DocumentReference/${pointerId}/$retrieve`, 'clinician-rs1', {
      'X-Request-ID': requestId,
    });
    const event = (await audits('content-retrieved')).find((a) =>
      a.entity?.some((e) => e.what?.identifier?.value === requestId),
    );
    return { status: res.status, text: (await issues(res))[0]?.details?.text, audited: event?.outcomeDesc };
  };

  it('a source answering with another patient’s study, or one not naming its patient, is 502, audited; nothing shown', async () => {
    north.resources.set('ImagingStudy/retrieve-study', forPatient(testNhsNumber(4)));
    const other = await retrieveOutcome('retrieve-other-patient');
    expect(other.status).toBe(502);
    expect(other.text).toBe(
      "Region north answered with a ImagingStudy for another patient than the pointer's NHS number",
    );
    expect(other.audited).toBe(other.text);
    expect(other.text).not.toContain(testNhsNumber(4));

    north.resources.set('ImagingStudy/retrieve-study', { ...study, subject: { reference: 'Patient/p-1' } });
    const unnamed = await retrieveOutcome('retrieve-no-nhs-number');
    expect([unnamed.status, unnamed.text]).toEqual([
      502,
      "Region north answered with a ImagingStudy that does not name its patient's NHS number",
    ]);
    // A region's answer is not validated: a subject that is not even an object is refused as well, and audited.
    north.resources.set('ImagingStudy/retrieve-study', { ...study, subject: 'Patient/p-1' } as never);
    const malformed = await retrieveOutcome('retrieve-malformed-subject');
    expect([malformed.status, malformed.audited]).toEqual([502, malformed.text]);
  });

  it('a source answering with another study than the one pointed to is 502', async () => {
    north.resources.set('ImagingStudy/retrieve-study', { ...study, id: 'another-study' });
    expect((await retrieveOutcome('retrieve-other-id')).text).toBe(
      'Region north answered with ImagingStudy/another-study, not the one pointed to',
    );
  });

  it('a source answering with a redirect is 502: the hub does not follow it, with its token or without', async () => {
    north.behave('redirect');
    const redirected = await retrieveOutcome('retrieve-redirected');
    expect(redirected.status).toBe(502);
    expect(redirected.text).toMatch(/answered 502: .*answered with a redirect \(302\), which is not followed/);
    expect(north.received.map((r) => r.path)).toEqual(['/fhir/ImagingStudy/retrieve-study']);
  });
});
