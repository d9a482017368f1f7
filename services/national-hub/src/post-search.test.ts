import { ODS_SYSTEM } from '@imaging/fhir';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestHub, tempDataDir } from './testing/index.ts';

/**
 * FHIR R4's search by POST (`POST [type]/_search`, the parameters as a form) at the hub: the directory and
 * the locator answer it as the GET search with those parameters.
 */

const temp = tempDataDir();
afterAll(() => temp.remove());
const hub = await createTestHub({ dataDir: temp.dir });

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const ods = encodeURIComponent(`${ODS_SYSTEM}|N81001`);

const bearer = async (clientId: string, scope?: string) => ({
  Authorization: `Bearer ${await hub.tokenFor(clientId, scope)}`,
});
const get = (path: string, headers: Record<string, string> = {}) => hub.app.request(path, { headers });
const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  hub.app.request(path, { method: 'POST', body, headers: { ...FORM, ...headers } });

/** What a client compares: the entries, the total and the self link. */
async function answerOf(res: Response) {
  expect(res.status, await res.clone().text()).toBe(200);
  const bundle = (await res.json()) as Bundle;
  return { entry: bundle.entry, total: bundle.total, self: bundle.link?.find((l) => l.relation === 'self')?.url };
}

describe('search by POST at the hub', () => {
  it('answers a directory search by POST as the GET: entries, total, self link', async () => {
    const gateway = await bearer('gateway-midlands');
    const byGet = await answerOf(
      await get(`/fhir/Organization?identifier=${ods}&_include=Organization:endpoint`, gateway),
    );
    expect(byGet.entry?.map((e) => e.resource?.id)).toEqual(['ods-N81001', 'imaging-north']);
    expect(byGet.self).toBe(
      `http://127.0.0.1:4000/fhir/Organization?identifier=${ods}&_include=Organization%3Aendpoint`,
    );
    const byPost = await post(
      '/fhir/Organization/_search',
      `identifier=${ods}&_include=Organization:endpoint`,
      gateway,
    );
    expect(await answerOf(byPost)).toEqual(byGet);
    // The URL's parameters, then the form's: the same search.
    const merged = await post(
      `/fhir/Organization/_search?identifier=${ods}`,
      '_include=Organization:endpoint',
      gateway,
    );
    expect(await answerOf(merged)).toEqual(byGet);
    expect(
      await answerOf(await get(`/fhir/Organization/_search?identifier=${ods}&_include=Organization:endpoint`, gateway)),
    ).toEqual(byGet);
  });

  it('answers a locator search by POST as the GET', async () => {
    const clinician = await bearer('clinician-rs1');
    const patient = `subject:identifier=${encodeURIComponent('https://fhir.nhs.uk/Id/nhs-number|9990000018')}`;
    // The URL's parameters, then the form's, written as a form is (`:` escaped), as the directory's self links are.
    const byGet = await answerOf(
      await get(`/fhir/DocumentReference?_total=accurate&${patient.replace(':', '%3A')}`, clinician),
    );
    expect(await answerOf(await post('/fhir/DocumentReference/_search?_total=accurate', patient, clinician))).toEqual(
      byGet,
    );
  });

  it('is refused as the GET is: no token 401, a client that may not search the directory 403', async () => {
    const search = (headers: Record<string, string>) =>
      Promise.all([
        get(`/fhir/Endpoint?identifier=x`, headers),
        post('/fhir/Endpoint/_search', 'identifier=x', headers),
      ]);
    const [getNone, postNone] = await search({});
    expect([getNone.status, postNone.status]).toEqual([401, 401]);
    expect(postNone.headers.get('WWW-Authenticate')).toBe(getNone.headers.get('WWW-Authenticate'));
    expect(await postNone.json()).toEqual(await getNone.json());
    // The clinician may search the locator but not read the directory.
    const [getForbidden, postForbidden] = await search(await bearer('clinician-rs1'));
    expect([getForbidden.status, postForbidden.status]).toEqual([403, 403]);
    expect(await postForbidden.json()).toEqual(await getForbidden.json());
  });

  it('refuses a body that is not a form (415) or not decodable (400), as an OperationOutcome', async () => {
    const gateway = await bearer('gateway-midlands');
    const json = await post('/fhir/Organization/_search', '{"resourceType":"Organization"}', {
      ...gateway,
      'Content-Type': 'application/fhir+json',
    });
    expect(json.status).toBe(415);
    expect(((await json.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
    const bad = await post('/fhir/Organization/_search', 'name=%E0%A4%A', gateway);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
  });
});
