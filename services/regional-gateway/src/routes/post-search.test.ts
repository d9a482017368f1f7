import type { AuditEvent, Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, searchAll, testNhsNumber } from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import { GP_TOKEN, OBSERVER_TOKEN, testGateway } from '../testing/app.ts';
import { reportedCase } from '../testing/pathway.ts';

/**
 * FHIR R4's search by POST (`POST [type]/_search`, the parameters as a form) at the gateway: answered as
 * the GET search with those parameters, in everything a client or an auditor sees.
 */

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const nhs = encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${testNhsNumber(0)}`);

async function gateway() {
  const { regions } = await reportedCase();
  const { app, token, disclosures } = await testGateway(regions.north);
  const gp = { Authorization: `Bearer ${await token(GP_TOKEN)}` };
  return { app, token, disclosures, gp, deps: regions.north };
}

/** What a client compares: the entries, the total and the self link (the next link's token is fresh each time). */
async function answerOf(res: Response) {
  expect(res.status, await res.clone().text()).toBe(200);
  const bundle = (await res.json()) as Bundle;
  return { entry: bundle.entry, total: bundle.total, self: bundle.link?.find((l) => l.relation === 'self')?.url };
}

const searchedQueries = async (deps: Awaited<ReturnType<typeof gateway>>['deps']) =>
  (await searchAll<AuditEvent>(deps.store, 'AuditEvent'))
    .filter((e) => e.subtype?.[0]?.code === 'resources-searched')
    .map((e) => Buffer.from(e.entity?.find((x) => x.query)?.query ?? '', 'base64').toString());

describe('search by POST at the gateway', () => {
  it('answers POST [type]/_search as the GET: entries, total, self link, and the audit of the GET', async () => {
    const { app, disclosures, gp, deps } = await gateway();
    const get = await app.request(`/fhir/ServiceRequest?_revinclude=Task:focus&patient.identifier=${nhs}`, {
      headers: gp,
    });
    const byGet = await answerOf(get);
    expect(byGet.total).toBe(1);
    expect(byGet.entry?.map((e) => e.resource?.resourceType)).toEqual(['ServiceRequest', 'Task']);
    // The URL's parameters, then the form's.
    const post = await app.request('/fhir/ServiceRequest/_search?_revinclude=Task:focus', {
      method: 'POST',
      body: `patient.identifier=${nhs}`,
      headers: { ...gp, ...FORM },
    });
    expect(await answerOf(post)).toEqual(byGet);
    await disclosures.flush();
    const queries = await searchedQueries(deps);
    expect(queries).toHaveLength(2);
    expect(queries[1]).toBe(queries[0]);
    expect(queries[0]).toMatch(/^ServiceRequest\?_revinclude=Task:focus&patient.identifier=/);
  });

  it('answers GET [type]/_search?… as the plain search', async () => {
    const { app, gp } = await gateway();
    const byGet = await answerOf(await app.request(`/fhir/Task?patient.identifier=${nhs}`, { headers: gp }));
    expect(byGet.total).toBe(1);
    expect(await answerOf(await app.request(`/fhir/Task/_search?patient.identifier=${nhs}`, { headers: gp }))).toEqual(
      byGet,
    );
  });

  it('is refused as the GET is: no token 401, a token that may not search the type 403', async () => {
    const { app, token } = await gateway();
    const search = (headers: Record<string, string>) => ({
      byGet: app.request('/fhir/Task?status=requested', { headers }),
      byPost: app.request('/fhir/Task/_search', {
        method: 'POST',
        body: 'status=requested',
        headers: { ...headers, ...FORM },
      }),
    });
    const anonymous = search({});
    const [getNone, postNone] = [await anonymous.byGet, await anonymous.byPost];
    expect([getNone.status, postNone.status]).toEqual([401, 401]);
    expect(postNone.headers.get('WWW-Authenticate')).toBe(getNone.headers.get('WWW-Authenticate'));
    expect(await postNone.json()).toEqual(await getNone.json());

    const noTasks = `Bearer ${await token({ ...GP_TOKEN, scope: ['system/Patient.crs'] })}`;
    const scoped = search({ Authorization: noTasks });
    const [getForbidden, postForbidden] = [await scoped.byGet, await scoped.byPost];
    expect([getForbidden.status, postForbidden.status]).toEqual([403, 403]);
    expect(await postForbidden.json()).toEqual(await getForbidden.json());
  });

  it('searches AuditEvents by POST for whoever may search them by GET (not refused as a write)', async () => {
    const { app, token, gp } = await gateway();
    const observer = { Authorization: `Bearer ${await token(OBSERVER_TOKEN)}` };
    const byGet = await answerOf(await app.request('/fhir/AuditEvent?subtype=order-placed', { headers: observer }));
    expect(byGet.total).toBe(1);
    const post = (headers: Record<string, string>) =>
      app.request('/fhir/AuditEvent/_search', {
        method: 'POST',
        body: 'subtype=order-placed',
        headers: { ...headers, ...FORM },
      });
    expect(await answerOf(await post(observer))).toEqual(byGet);
    const refusedGet = await app.request('/fhir/AuditEvent?subtype=order-placed', { headers: gp });
    const refusedPost = await post(gp);
    expect(refusedPost.status).toBe(refusedGet.status);
    expect(await refusedPost.json()).toEqual(await refusedGet.json());
  });

  it('searches the open published profiles by POST without a token, as by GET', async () => {
    const { app } = await gateway();
    const byGet = await answerOf(await app.request('/fhir/StructureDefinition?type=ServiceRequest'));
    expect(byGet.total).toBeGreaterThan(0);
    const post = await app.request('/fhir/StructureDefinition/_search', {
      method: 'POST',
      body: 'type=ServiceRequest',
      headers: FORM,
    });
    expect(await answerOf(post)).toEqual(byGet);
  });

  it.each([
    [
      'a FHIR resource as the body',
      415,
      { 'Content-Type': 'application/fhir+json' },
      '{"resourceType":"ServiceRequest"}',
    ],
    ['a body with no Content-Type', 415, {}, 'status=active'],
    ['a form with a bad percent-escape', 400, FORM, 'status=%zz'],
    ['a form over 64 KiB', 413, FORM, `status=${'a'.repeat(64 * 1024)}`],
  ] as const)(
    '%s is a %i OperationOutcome, and nothing is searched or written',
    async (_name, status, headers, body) => {
      const { app, gp, disclosures, deps } = await gateway();
      const before = (await searchAll(deps.store, 'ServiceRequest')).length;
      const res = await app.request('/fhir/ServiceRequest/_search', {
        method: 'POST',
        body,
        headers: { ...gp, ...headers },
      });
      expect(res.status).toBe(status);
      expect(((await res.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
      await disclosures.flush();
      expect(await searchedQueries(deps)).toEqual([]);
      expect((await searchAll(deps.store, 'ServiceRequest')).length).toBe(before);
    },
  );

  it('on a type it does not serve is a 404, as before', async () => {
    const { app, gp } = await gateway();
    const served = await app.request('/fhir/Patient/_search', {
      method: 'POST',
      body: '',
      headers: { ...gp, ...FORM },
    });
    expect(served.status).toBe(200);
    const res = await app.request('/fhir/Observation/_search', {
      method: 'POST',
      body: 'code=x',
      headers: { ...gp, ...FORM },
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as OperationOutcome).issue[0]?.code).toBe('not-supported');
  });
});
