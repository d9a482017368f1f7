import type { AuditEvent, Bundle, OperationOutcome, Patient, Task } from '@medplum/fhirtypes';
import type { AccessTokenContent } from '@imaging/auth';
import { HttpStore, searchAll } from '@imaging/fhir';
import { examplePatient } from '@imaging/fhir/examples';
import { describe, expect, it } from 'vitest';
import { ACCESS_SYSTEM } from '../domain/labels.ts';
import { GP_TOKEN, testGateway } from '../testing/app.ts';
import { reportedCase } from '../testing/pathway.ts';
import { testRegions } from '../testing/regions.ts';

/**
 * A resource's versions through the HTTP API (vread and history): what a write's Location and every
 * disclosure's AuditEvent point at. Versions are read as the resource is: only while the caller may see the
 * resource now, and only the versions that were shared with its organisation.
 */

const OTHER_GP: AccessTokenContent = { ...GP_TOKEN, sub: 'gp-n81002', org: 'N81002' };
const JSON_BODY = { 'Content-Type': 'application/fhir+json' };

async function northGateway() {
  const { regions, north } = await reportedCase();
  const gateway = await testGateway(regions.north);
  const tokens = new Map<AccessTokenContent, string>();
  const call = async (path: string, init: RequestInit = {}, as: AccessTokenContent = GP_TOKEN) => {
    const token = tokens.get(as) ?? (await gateway.token(as));
    tokens.set(as, token);
    const headers = new Headers(init.headers);
    headers.set('Authorization', `Bearer ${token}`);
    return gateway.app.request(path, { ...init, headers });
  };
  return { call, held: north, deps: regions.north, disclosures: gateway.disclosures };
}

const answerOf = async (res: Response) => [res.status, res.headers.get('Content-Type'), await res.text()];

describe('vread and history on the embedded store', () => {
  it("lists a Task's versions newest first, each as vread answers it, with how it came to be", async () => {
    const { call, held } = await northGateway();
    const current = (await (await call(`/fhir/Task/${held.Task.id}`)).json()) as Task;
    const versionCount = Number(current.meta?.versionId);
    // The order's Task moved on in the midlands (accepted, in progress, completed): each move is a version here.
    expect(versionCount).toBeGreaterThan(2);

    const res = await call(`/fhir/Task/${held.Task.id}/_history`);
    expect(res.status).toBe(200);
    const history = (await res.json()) as Bundle<Task>;
    expect(history).toMatchObject({ resourceType: 'Bundle', type: 'history', total: versionCount });
    const versions = (history.entry ?? []).map((e) => e.resource?.meta?.versionId);
    expect(versions).toEqual(Array.from({ length: versionCount }, (_, i) => String(versionCount - i)));
    expect(history.entry?.[0]?.resource).toEqual(current);
    expect(history.entry?.at(-1)).toMatchObject({
      request: { method: 'POST', url: 'Task' },
      response: { status: '201 Created', etag: 'W/"1"' },
    });
    expect(history.entry?.[0]).toMatchObject({
      request: { method: 'PUT', url: `Task/${held.Task.id}` },
      response: { status: '200 OK', etag: `W/"${versionCount}"`, lastModified: current.meta?.lastUpdated },
    });

    for (const entry of history.entry ?? []) {
      const version = entry.resource?.meta?.versionId as string;
      const read = await call(`/fhir/Task/${held.Task.id}/_history/${version}`);
      expect(read.status).toBe(200);
      expect(read.headers.get('ETag')).toBe(`W/"${version}"`);
      expect(await read.json()).toEqual(entry.resource);
    }
    expect(
      (await (await call(`/fhir/Task/${held.Task.id}/_history/1`)).json()) as Task,
      'the first version is the order as placed',
    ).toMatchObject({ status: 'requested' });
  });

  it("a create's Location is a version that vread answers, byte for byte as the create did", async () => {
    const { call } = await northGateway();
    const created = await call('/fhir/Patient', {
      method: 'POST',
      headers: JSON_BODY,
      body: JSON.stringify({
        ...examplePatient(),
        identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990000026' }],
      }),
    });
    expect(created.status).toBe(201);
    const location = new URL(created.headers.get('Location') as string);
    expect(location.pathname).toMatch(/^\/fhir\/Patient\/[^/]+\/_history\/1$/);
    const read = await call(location.pathname);
    expect(read.status).toBe(200);
    expect(await read.text()).toBe(await created.text());
  });

  it("hides a version shared before the caller's organisation joined, and shows the rest", async () => {
    const { call, held } = await northGateway();
    const before = Number(((await (await call(`/fhir/Patient/${held.Patient.id}`)).json()) as Patient).meta?.versionId);
    // A second practice registers the same patient: the Patient gains its label in a new version.
    const registered = await call(
      '/fhir/Patient',
      { method: 'POST', headers: JSON_BODY, body: JSON.stringify(examplePatient()) },
      OTHER_GP,
    );
    expect(registered.status).toBe(200);
    const patient = (await registered.json()) as Patient;
    const joined = before + 1;
    expect(patient.meta?.versionId).toBe(String(joined));
    expect(patient.meta?.security).toContainEqual({ system: ACCESS_SYSTEM, code: 'N81002' });
    expect(patient.id).toBe(held.Patient.id);

    const earlier = await call(`/fhir/Patient/${patient.id}/_history/${before}`, {}, OTHER_GP);
    expect(earlier.status).toBe(404);
    expect(((await earlier.json()) as OperationOutcome).issue[0]?.diagnostics).toBe(
      `No version ${before} of this Patient is visible to you`,
    );
    expect((await call(`/fhir/Patient/${patient.id}/_history/${joined}`, {}, OTHER_GP)).status).toBe(200);
    const theirs = (await (await call(`/fhir/Patient/${patient.id}/_history`, {}, OTHER_GP)).json()) as Bundle;
    expect(theirs.entry?.map((e) => e.resource?.meta?.versionId)).toEqual([String(joined)]);
    // The first practice saw every version as it was made.
    const ours = (await (await call(`/fhir/Patient/${patient.id}/_history`)).json()) as Bundle;
    expect(ours.entry?.map((e) => e.resource?.meta?.versionId)).toEqual(
      Array.from({ length: joined }, (_, i) => String(joined - i)),
    );
    expect((await call(`/fhir/Patient/${patient.id}/_history/${before}`)).status).toBe(200);
  });

  it("another organisation's resource is the read's 404, byte for byte, for every version and its history", async () => {
    const { call, held } = await northGateway();
    const theirs = await answerOf(await call(`/fhir/ServiceRequest/${held.ServiceRequest.id}`, {}, OTHER_GP));
    expect(theirs[0]).toBe(404);
    for (const path of ['_history/1', '_history/2', '_history'])
      expect(
        await answerOf(await call(`/fhir/ServiceRequest/${held.ServiceRequest.id}/${path}`, {}, OTHER_GP)),
      ).toEqual(theirs);
    expect(await answerOf(await call('/fhir/ServiceRequest/no-such-order/_history/1', {}, OTHER_GP))).toEqual(theirs);
    expect(await answerOf(await call('/fhir/ServiceRequest/no-such-order/_history', {}, OTHER_GP))).toEqual(theirs);
  });

  it('keeps the outbox to itself: a delivery Task has no versions for anyone', async () => {
    const { call, deps } = await northGateway();
    const [delivery] = (await searchAll<Task>(deps.store, 'Task')).filter((t) =>
      t.code?.coding?.some((c) => c.code !== 'fulfil'),
    );
    expect(delivery, 'the case left a delivery in the outbox').toBeDefined();
    for (const path of ['', '/_history', '/_history/1'])
      expect((await call(`/fhir/Task/${delivery?.id}${path}`)).status).toBe(404);
  });

  it.each([
    ['a malformed version id', (id: string) => `/fhir/Task/${id}/_history/a%20b`, 400, ['vid']],
    ['a version that does not exist', (id: string) => `/fhir/Task/${id}/_history/99`, 404, undefined],
    ['a malformed id', () => '/fhir/Task/a%20b/_history/1', 400, ['id']],
    [
      'a _since that is a date, not an instant',
      (id: string) => `/fhir/Task/${id}/_history?_since=2026-01-01`,
      400,
      ['_since'],
    ],
    ['a bad _count and _at', (id: string) => `/fhir/Task/${id}/_history?_count=-1&_at=2026`, 400, ['_at', '_count']],
    ['_list', (id: string) => `/fhir/Task/${id}/_history?_list=x`, 400, ['_list']],
    ['a format other than JSON', (id: string) => `/fhir/Task/${id}/_history?_format=xml`, 400, ['_format']],
  ])('refuses %s with an OperationOutcome', async (_name, path, status, expressions) => {
    const { call, held } = await northGateway();
    const res = await call(path(held.Task.id));
    expect(res.status).toBe(status);
    const outcome = (await res.json()) as OperationOutcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    if (expressions) expect(outcome.issue.flatMap((i) => i.expression ?? [])).toEqual(expressions);
  });

  it('pages history by _count (newest first, total every version, next pages on), and picks by _since and _at', async () => {
    const { call, held } = await northGateway();
    const history = async (query: string) => {
      const res = await call(`/fhir/Task/${held.Task.id}/_history${query}`);
      expect(res.status, await res.clone().text()).toBe(200);
      return (await res.json()) as Bundle<Task>;
    };
    const versionsOf = (bundle: Bundle<Task>) => (bundle.entry ?? []).map((e) => e.resource?.meta?.versionId);
    const all = await history('');
    const count = all.total as number;
    expect(count).toBeGreaterThan(2);

    let page = await history('?_count=2');
    expect([versionsOf(page), page.total]).toEqual([versionsOf(all).slice(0, 2), count]);
    const walked = [...versionsOf(page)];
    for (let next = page.link?.find((l) => l.relation === 'next')?.url; next; ) {
      expect(next).toMatch(new RegExp(`/fhir/Task/${held.Task.id}/_history\\?_count=2&_offset=\\d+$`));
      page = await history(new URL(next).search);
      expect(page.total).toBe(count);
      walked.push(...versionsOf(page));
      next = page.link?.find((l) => l.relation === 'next')?.url;
    }
    expect(walked).toEqual(versionsOf(all));

    const zero = await history('?_count=0');
    expect([zero.total, zero.entry, zero.link?.map((l) => l.relation)]).toEqual([count, undefined, ['self']]);

    const written = (all.entry ?? []).map((e) => e.resource?.meta?.lastUpdated as string);
    const second = encodeURIComponent(written.at(-2) as string);
    const since = await history(`?_since=${second}`);
    expect([versionsOf(since), since.total]).toEqual([versionsOf(all).slice(0, -1), count - 1]);
    expect(versionsOf(await history(`?_at=${second}`))).toEqual([versionsOf(all).at(-2)]);
    const before = await history(
      `?_at=${encodeURIComponent(new Date(Date.parse(written.at(-1) as string) - 1).toISOString())}`,
    );
    expect([before.total, before.entry]).toEqual([0, undefined]);
  });

  it('records as disclosed the versions a history page shows, and no others', async () => {
    const { call, held, deps, disclosures } = await northGateway();
    const res = await call(`/fhir/Task/${held.Task.id}/_history?_count=1`, {
      headers: { 'X-Correlation-ID': 'page-1' },
    });
    const newest = ((await res.json()) as Bundle<Task>).entry?.[0]?.resource?.meta?.versionId;
    await disclosures.flush();
    const reads = (await searchAll<AuditEvent>(deps.store, 'AuditEvent')).filter(
      (e) => e.subtype?.[0]?.code === 'resource-read',
    );
    expect(reads).toHaveLength(1);
    const what = reads[0]?.entity?.flatMap((e) => (e.what?.reference ? [e.what.reference] : []));
    expect(what).toEqual([held.Task.for?.reference, `Task/${held.Task.id}/_history/${newest}`]);
  });

  it('answers history with _format=json as without it', async () => {
    const { call, held } = await northGateway();
    const plain = (await (await call(`/fhir/Task/${held.Task.id}/_history`)).json()) as Bundle;
    const res = await call(`/fhir/Task/${held.Task.id}/_history?_format=json`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Bundle).entry).toEqual(plain.entry);
  });

  it('needs the type read scope and a token', async () => {
    const { call, held } = await northGateway();
    const noRead = { ...GP_TOKEN, scope: ['system/ServiceRequest.crs'] };
    for (const path of [`/fhir/Task/${held.Task.id}/_history/1`, `/fhir/Task/${held.Task.id}/_history`])
      expect((await call(path, {}, noRead)).status).toBe(403);
    const { regions } = await reportedCase();
    const open = await (await testGateway(regions.north)).app.request(`/fhir/Task/${held.Task.id}/_history/1`);
    expect(open.status).toBe(401);
  });

  it('records the disclosure: who read which version of which patient', async () => {
    const { call, held, deps, disclosures } = await northGateway();
    expect(
      (await call(`/fhir/Task/${held.Task.id}/_history/1`, { headers: { 'X-Correlation-ID': 'case-1' } })).status,
    ).toBe(200);
    await disclosures.flush();
    const reads = (await searchAll<AuditEvent>(deps.store, 'AuditEvent')).filter(
      (e) => e.subtype?.[0]?.code === 'resource-read',
    );
    expect(reads).toHaveLength(1);
    const what = reads[0]?.entity?.flatMap((e) => (e.what?.reference ? [e.what.reference] : []));
    expect(what).toEqual([held.Task.for?.reference, `Task/${held.Task.id}/_history/1`]);
    expect(reads[0]?.agent[0]?.who?.identifier?.value).toBe('N81001');
  });
});

describe('vread and history on HAPI', () => {
  it("reads the versions from HAPI's history, and shows only those the caller may see", async () => {
    const base = 'http://hapi.internal:8080/fhir/north';
    const labelled = (version: string, orgs: string[]): Patient => ({
      ...examplePatient(),
      id: 'p1',
      meta: { versionId: version, security: orgs.map((code) => ({ system: ACCESS_SYSTEM, code })) },
    });
    const seen: string[] = [];
    const fetch = (async (input: string | URL | Request) => {
      const url = new URL(String(input));
      seen.push(url.pathname);
      const body =
        url.pathname === '/fhir/north/Patient/p1'
          ? labelled('2', ['N81003', 'N81001'])
          : {
              resourceType: 'Bundle',
              type: 'history',
              entry: [{ resource: labelled('1', ['N81003']) }, { resource: labelled('2', ['N81003', 'N81001']) }],
            };
      return new Response(JSON.stringify(body), { headers: { 'Content-Type': 'application/fhir+json' } });
    }) as typeof globalThis.fetch;
    const deps = testRegions().open('north', new HttpStore({ baseUrl: base, fetch }));
    const gateway = await testGateway(deps);
    const headers = { Authorization: `Bearer ${await gateway.token(GP_TOKEN)}` };

    const history = (await (await gateway.app.request('/fhir/Patient/p1/_history', { headers })).json()) as Bundle;
    expect(history.entry?.map((e) => e.resource?.meta?.versionId)).toEqual(['2']);
    expect((await gateway.app.request('/fhir/Patient/p1/_history/2', { headers })).status).toBe(200);
    expect((await gateway.app.request('/fhir/Patient/p1/_history/1', { headers })).status).toBe(404);
    expect(seen).toContain('/fhir/north/Patient/p1/_history');
    // Another practice is no party to this patient: not even HAPI's history is asked.
    seen.length = 0;
    const other = { Authorization: `Bearer ${await gateway.token(OTHER_GP)}` };
    expect((await gateway.app.request('/fhir/Patient/p1/_history', { headers: other })).status).toBe(404);
    expect(seen).not.toContain('/fhir/north/Patient/p1/_history');
    // A malformed version id is refused from the URL alone, whoever asks: HAPI is asked nothing.
    seen.length = 0;
    for (const who of [headers, other])
      expect((await gateway.app.request('/fhir/Patient/p1/_history/a%20b', { headers: who })).status).toBe(400);
    expect(seen).toEqual([]);
  });
});
