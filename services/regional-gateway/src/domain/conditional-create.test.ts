import type { AccessTokenContent } from '@imaging/auth';
import type { WithId } from '@imaging/fhir';
import { DICOM_UID_SYSTEM, NHS_NUMBER_SYSTEM, searchAll, SYSTEMS, testNhsNumber } from '@imaging/fhir';
import {
  exampleDiagnosticReport,
  exampleEndpoint,
  exampleImagingStudy,
  examplePatient,
  exampleServiceRequest,
} from '@imaging/fhir/examples';
import type { Identifier, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { GP_TOKEN, RIS_TOKEN, testGateway } from '../testing/app.ts';
import type { CaseResources } from '../testing/pathway.ts';
import { reportedCase } from '../testing/pathway.ts';
import type { GatewayDeps } from './ports.ts';

/**
 * `If-None-Exist` on every create the gateway declares it for, through the app: the spec's relative form
 * and the absolute URL HAPI's client sends; no match creates, one match answers it and writes nothing,
 * several are a 412; a match the caller may not see is no match.
 */

type Creatable = 'Patient' | 'ServiceRequest' | 'Endpoint' | 'ImagingStudy' | 'DiagnosticReport';

async function setUp() {
  const { regions, north, midlands } = await reportedCase();
  const client = async (deps: GatewayDeps, content: AccessTokenContent) => {
    const gateway = await testGateway(deps);
    const token = await gateway.token(content);
    return (type: string, body: Resource, headers: Record<string, string> = {}) =>
      gateway.app.request(`/fhir/${type}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json', ...headers },
        body: JSON.stringify(body),
      });
  };
  return {
    regions,
    held: { north, midlands },
    gp: await client(regions.north, GP_TOKEN),
    otherGp: await client(regions.north, { ...GP_TOKEN, sub: 'gp-n81002', org: 'N81002' }),
    ris: await client(regions.midlands, RIS_TOKEN),
  };
}
type SetUp = Awaited<ReturnType<typeof setUp>>;

interface Case {
  /** Where the type is created, who creates it, and the one the case already holds. */
  region: 'north' | 'midlands';
  client: (s: SetUp) => SetUp['gp'];
  existing: (held: CaseResources) => WithId<Resource>;
  identifier: (resource: Resource) => Identifier;
  /** A resource of the type that would be created: its business identifier is new. */
  fresh: (held: CaseResources) => Resource;
}

const identified = (system: string) => (r: Resource) =>
  ((r as { identifier?: Identifier[] }).identifier ?? []).find((i) => i.system === system) as Identifier;

const CASES: Record<Creatable, Case> = {
  Patient: {
    region: 'north',
    client: (s) => s.gp,
    existing: (held) => held.Patient,
    identifier: identified(NHS_NUMBER_SYSTEM),
    fresh: () => examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(7) }] }),
  },
  ServiceRequest: {
    region: 'north',
    client: (s) => s.gp,
    existing: (held) => held.ServiceRequest,
    identifier: identified(SYSTEMS.placerOrder),
    fresh: () => exampleServiceRequest({ identifier: [{ system: SYSTEMS.placerOrder, value: 'N81001-777' }] }),
  },
  Endpoint: {
    region: 'midlands',
    client: (s) => s.ris,
    existing: (held) => held.Endpoint,
    identifier: (r) => (r as { identifier: Identifier[] }).identifier[0] as Identifier,
    fresh: () => exampleEndpoint({ identifier: [{ system: 'https://rm1.example/endpoints', value: 'viewer' }] }),
  },
  ImagingStudy: {
    region: 'midlands',
    client: (s) => s.ris,
    existing: (held) => held.ImagingStudy,
    identifier: identified(DICOM_UID_SYSTEM),
    fresh: (held) =>
      exampleImagingStudy({
        identifier: [
          { system: DICOM_UID_SYSTEM, value: 'urn:oid:1.2.826.0.1.3680043.8.498.777' },
          { system: SYSTEMS.accession, value: 'RM1-ACC-777' },
        ],
        basedOn: [{ reference: `ServiceRequest/${held.ServiceRequest.id}` }],
        subject: held.ServiceRequest.subject as { reference: string },
        endpoint: [{ reference: `Endpoint/${held.Endpoint.id}` }],
      }),
  },
  DiagnosticReport: {
    region: 'midlands',
    client: (s) => s.ris,
    existing: (held) => held.DiagnosticReport,
    identifier: identified(SYSTEMS.report),
    fresh: (held) =>
      exampleDiagnosticReport({
        identifier: [{ system: SYSTEMS.report, value: 'RM1-REP-777' }],
        basedOn: [{ reference: `ServiceRequest/${held.ServiceRequest.id}` }],
        subject: held.ServiceRequest.subject as { reference: string },
      }),
  },
};

const FORMS = {
  relative: (_s: SetUp, _c: Case, _type: string, query: string) => query,
  "absolute, as HAPI's client sends it": (s: SetUp, c: Case, type: string, query: string) =>
    `${s.regions[c.region].region.fhirBaseUrl}/${type}?_format=json&${query}`,
};

const query = (identifier: Identifier) => `identifier=${identifier.system}|${identifier.value}`;
const count = async (s: SetUp, c: Case, type: Creatable) => (await searchAll(s.regions[c.region].store, type)).length;

describe('If-None-Exist on create', () => {
  const rows = (Object.keys(CASES) as Creatable[]).flatMap((type) =>
    (Object.keys(FORMS) as (keyof typeof FORMS)[]).map((form) => [type, form] as const),
  );

  it.each(rows)('%s, %s: one match is answered with 200 and nothing is written', async (type, form) => {
    const s = await setUp();
    const c = CASES[type];
    const held = s.held[c.region];
    const existing = c.existing(held);
    const before = await count(s, c, type);
    const header = FORMS[form](s, c, type, query(c.identifier(existing)));
    const res = await c.client(s)(type, c.fresh(held), { 'If-None-Exist': header });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as Resource).id).toBe(existing.id);
    expect(res.headers.get('Location')).toBe(
      `${s.regions[c.region].region.fhirBaseUrl}/${type}/${existing.id}/_history/${existing.meta?.versionId}`,
    );
    expect(await count(s, c, type)).toBe(before);
    expect((await s.regions[c.region].store.read(type, existing.id)).meta?.versionId).toBe(existing.meta?.versionId);
  });

  it.each(rows)('%s, %s: no match creates the resource (201)', async (type, form) => {
    const s = await setUp();
    const c = CASES[type];
    const held = s.held[c.region];
    const before = await count(s, c, type);
    const fresh = c.fresh(held);
    const header = FORMS[form](s, c, type, query(c.identifier(fresh)));
    const res = await c.client(s)(type, fresh, { 'If-None-Exist': header });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(await count(s, c, type)).toBe(before + 1);
    // And the same create again is now the one match.
    const again = await c.client(s)(type, fresh, { 'If-None-Exist': header });
    expect(again.status).toBe(200);
    expect(((await again.json()) as Resource).id).toBe(((await res.json()) as Resource).id);
    expect(await count(s, c, type)).toBe(before + 1);
  });

  it.each(['Patient', 'Endpoint'] as const)('%s: several matches are a 412, and nothing is written', async (type) => {
    const s = await setUp();
    const c = CASES[type];
    const held = s.held[c.region];
    expect((await c.client(s)(type, c.fresh(held))).status).toBe(201);
    const before = await count(s, c, type);
    const res = await c.client(s)(type, c.fresh(held), { 'If-None-Exist': '_lastUpdated=ge2000-01-01' });
    expect(res.status, await res.clone().text()).toBe(412);
    expect(((await res.json()) as OperationOutcome).issue[0]?.code).toBe('multiple-matches');
    expect(await count(s, c, type)).toBe(before);
  });

  it('never reveals a match the caller may not read: it is no match, and the create goes ahead', async () => {
    const s = await setUp();
    const theirs = examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(8) }] });
    expect((await s.otherGp('Patient', theirs)).status).toBe(201);
    const mine = CASES.Patient.fresh(s.held.north);
    const res = await s.gp('Patient', mine, { 'If-None-Exist': query(identified(NHS_NUMBER_SYSTEM)(theirs)) });
    expect(res.status, await res.clone().text()).toBe(201);
    const created = (await res.json()) as WithId<Resource>;
    expect(identified(NHS_NUMBER_SYSTEM)(created).value).toBe(testNhsNumber(7));
  });

  it.each([
    ['a base that is not this server', 'http://elsewhere.example/fhir/Patient?identifier=x|y'],
    ['a parameter the gateway does not search on', 'family=Smith'],
    ['a malformed NHS number', `identifier=${NHS_NUMBER_SYSTEM}|123`],
    ['a result parameter', '_count=1&identifier=x|y'],
  ])('refuses %s with 400, and writes nothing', async (_name, header) => {
    const s = await setUp();
    const before = await count(s, CASES.Patient, 'Patient');
    const res = await s.gp('Patient', CASES.Patient.fresh(s.held.north), { 'If-None-Exist': header });
    expect(res.status, await res.clone().text()).toBe(400);
    expect(await count(s, CASES.Patient, 'Patient')).toBe(before);
  });
});
