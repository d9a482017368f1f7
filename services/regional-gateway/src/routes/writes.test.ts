import type {
  Bundle,
  Coding,
  DiagnosticReport,
  Endpoint,
  ImagingStudy,
  MessageHeader,
  OperationOutcome,
  Patient,
  Resource,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import type { AccessTokenContent } from '@imaging/auth';
import {
  CODE_SYSTEMS,
  NHS_NUMBER_SYSTEM,
  odsReference,
  patientReferenceByNhsNumber,
  searchAll,
  searchOne,
  SYSTEMS,
  testNhsNumber,
} from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import {
  exampleDiagnosticReport,
  exampleEndpoint,
  exampleImagingStudy,
  examplePatient,
  exampleServiceRequest,
} from '@imaging/fhir/examples';
import { ORDER_REQUEST, REPORT_ISSUED } from '@imaging/messaging';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deliverDue } from '../domain/delivery.ts';
import { ACCESS_SYSTEM, PEER_SERVICE_SYSTEM } from '../domain/labels.ts';
import type { GatewayDeps } from '../domain/ports.ts';
import { GP_TOKEN, HUB_TOKEN, RIS_TOKEN, testGateway } from '../testing/app.ts';
import { testRegions } from '../testing/regions.ts';

type Gateway = Awaited<ReturnType<typeof testGateway>>;

/** A client of one gateway, calling it through `app.request()` with a real token. */
async function clientOf(gateway: Gateway, content: AccessTokenContent) {
  const token = await gateway.token(content);
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    gateway.app.request(`/fhir/${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  return {
    get: (path: string) => call('GET', path),
    post: (resource: Resource, headers: Record<string, string> = {}) =>
      call('POST', resource.resourceType, resource, headers),
    put: (resource: WithId<Resource>, version: string | undefined) =>
      call('PUT', `${resource.resourceType}/${resource.id}`, resource, { 'If-Match': `W/"${version}"` }),
    message: (bundle: Bundle, requestId: string) =>
      call('POST', '$process-message', bundle, { 'X-Request-ID': requestId }),
  };
}

async function created<T extends Resource>(res: Response): Promise<WithId<T>> {
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as WithId<T>;
}

async function refusedAt(res: Response, status: number): Promise<string[]> {
  expect(res.status, await res.clone().text()).toBe(status);
  const outcome = (await res.json()) as OperationOutcome;
  expect(outcome.resourceType).toBe('OperationOutcome');
  return outcome.issue.flatMap((i) => i.expression ?? []);
}

const OTHER_GP: AccessTokenContent = { ...GP_TOKEN, sub: 'gp-n81002', org: 'N81002' };
const OTHER_RIS: AccessTokenContent = { ...RIS_TOKEN, sub: 'ris-rx9', org: 'RX9' };
const OTHER_NHS = testNhsNumber(1);
const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const SERVER_SYSTEMS: (string | undefined)[] = [ACCESS_SYSTEM, PEER_SERVICE_SYSTEM];

/** Access labels and the server's tags, as sorted `system|code` lists. */
function labelsOf(resource: Resource) {
  const key = (c: Coding) => `${c.system}|${c.code}`;
  return {
    security: (resource.meta?.security ?? []).map(key).sort(),
    serverTags: (resource.meta?.tag ?? [])
      .filter((t) => SERVER_SYSTEMS.includes(t.system))
      .map(key)
      .sort(),
  };
}
const access = (...ods: string[]) => ods.map((o) => `${ACCESS_SYSTEM}|${o}`).sort();
const peer = (serviceId: string) => [`${PEER_SERVICE_SYSTEM}|${serviceId}`];

const byIdentifier = <T extends Resource>(deps: GatewayDeps, type: T['resourceType'], system: string, value: string) =>
  searchOne<T>(deps.store, type, { identifier: `${system}|${value}` });

/** Everything a write could leave behind, to show that a refused one left nothing. */
async function storedCounts(deps: GatewayDeps) {
  const types = ['Patient', 'ServiceRequest', 'Task', 'ImagingStudy', 'DiagnosticReport', 'Endpoint', 'Bundle'];
  return Object.fromEntries(
    await Promise.all(types.map(async (t) => [t, (await searchAll(deps.store, t as 'Task')).length] as const)),
  );
}

/** The queued message of `event` whose focus has the business identifier `key`. */
async function outboxMessage(
  deps: GatewayDeps,
  event: string,
  key: string,
): Promise<{ message: Bundle; requestId: string }> {
  const deliveries = await searchAll<Task>(deps.store, 'Task', { code: `${CODE_SYSTEMS.taskCode}|deliver-message` });
  for (const delivery of deliveries) {
    const message = await deps.store.read<Bundle>('Bundle', delivery.focus?.reference?.split('/')[1] as string);
    const header = message.entry?.[0]?.resource as MessageHeader | undefined;
    const focus = message.entry?.[1]?.resource as { identifier?: { value?: string }[] } | undefined;
    if (header?.eventCoding?.code === event && focus?.identifier?.some((i) => i.value === key))
      return { message, requestId: delivery.identifier?.[0]?.value as string };
  }
  throw new Error(`no ${event} message for ${key} in the outbox`);
}

/** Adds labels of the sender's (or an attacker's) choosing to every resource a message carries. */
function withForgedLabels(message: Bundle): Bundle {
  return {
    ...message,
    entry: message.entry?.map((e, i) =>
      i === 0
        ? e
        : {
            ...e,
            resource: {
              ...(e.resource as Resource),
              meta: {
                ...e.resource?.meta,
                security: [
                  { system: ACCESS_SYSTEM, code: 'X99' },
                  { system: CONFIDENTIALITY, code: 'R' },
                ],
                tag: [{ system: PEER_SERVICE_SYSTEM, code: 'imaging-south' }],
              },
            },
          },
    ),
  };
}

/**
 * The reference pathway, over HTTP: the GP (N81001, north) registers its patient and orders from RM1
 * (midlands); another practice (N81002) has its own patient and order; RM1 and another provider (RX9)
 * have each registered a DICOMweb endpoint in the midlands. With `deliver`, the order reaches the
 * midlands.
 */
async function pathway({ deliver = true } = {}) {
  const regions = testRegions();
  const northGateway = await testGateway(regions.north);
  const midlandsGateway = await testGateway(regions.midlands);
  const gp = await clientOf(northGateway, GP_TOKEN);
  const otherGp = await clientOf(northGateway, OTHER_GP);
  const ris = await clientOf(midlandsGateway, RIS_TOKEN);
  const otherRis = await clientOf(midlandsGateway, OTHER_RIS);

  const theirPatient = await created<Patient>(
    await otherGp.post(examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: OTHER_NHS }] })),
  );
  const theirOrder = await created<ServiceRequest>(
    await otherGp.post(
      exampleServiceRequest({
        identifier: [{ system: SYSTEMS.placerOrder, value: 'N81002-1' }],
        subject: { reference: `Patient/${theirPatient.id}` },
        requester: odsReference('N81002'),
      }),
    ),
  );
  await created<Patient>(await gp.post(examplePatient()));
  const order = await created<ServiceRequest>(await gp.post(exampleServiceRequest()));
  const [northTask] = (await searchAll<Task>(regions.north.store, 'Task', {
    focus: `ServiceRequest/${order.id}`,
  })) as WithId<Task>[];
  if (deliver) await deliverDue(regions.north);
  const endpoint = await created<Endpoint>(await ris.post(exampleEndpoint()));
  const theirEndpoint = await created<Endpoint>(
    await otherRis.post(exampleEndpoint({ identifier: [{ system: 'https://rx9.example/endpoints', value: 'pacs' }] })),
  );
  const midlandsOrder = await byIdentifier<ServiceRequest>(
    regions.midlands,
    'ServiceRequest',
    SYSTEMS.placerOrder,
    'N81001-000123',
  );
  const [midlandsTask] = midlandsOrder
    ? ((await searchAll<Task>(regions.midlands.store, 'Task', {
        focus: `ServiceRequest/${midlandsOrder.id}`,
      })) as WithId<Task>[])
    : [];
  return {
    ...regions,
    gp,
    ris,
    otherRis,
    hubAtNorth: await clientOf(northGateway, HUB_TOKEN),
    hubAtMidlands: await clientOf(midlandsGateway, HUB_TOKEN),
    northTask: northTask as WithId<Task>,
    theirPatient,
    theirOrder,
    endpoint,
    theirEndpoint,
    midlandsOrder,
    midlandsTask,
  };
}
type Pathway = Awaited<ReturnType<typeof pathway>>;

/** A study and a report of the midlands order, as RM1 would post them. */
function studyOf(p: Pathway, overrides: Partial<ImagingStudy> = {}): ImagingStudy {
  return exampleImagingStudy({
    basedOn: [{ reference: `ServiceRequest/${p.midlandsOrder?.id}` }],
    subject: { reference: p.midlandsOrder?.subject?.reference as string },
    endpoint: [{ reference: `Endpoint/${p.endpoint.id}` }],
    ...overrides,
  });
}
function reportOf(p: Pathway, overrides: Partial<DiagnosticReport> = {}): DiagnosticReport {
  return exampleDiagnosticReport({
    basedOn: [{ reference: `ServiceRequest/${p.midlandsOrder?.id}` }],
    subject: p.midlandsOrder?.subject,
    ...overrides,
  });
}

describe('a body of the wrong JSON types is a 400 before any rule reads it', () => {
  it.each([
    [
      'a patient whose identifier is not a list',
      'north',
      (p: Pathway) =>
        p.gp.post({ ...examplePatient(), identifier: { system: NHS_NUMBER_SYSTEM, value: OTHER_NHS } } as never),
      'Patient.identifier',
    ],
    [
      'an order whose requester is a number',
      'north',
      (p: Pathway) => p.gp.post({ ...exampleServiceRequest(), requester: 7 } as never),
      'ServiceRequest.requester',
    ],
    [
      'an order whose performer is [true]',
      'north',
      (p: Pathway) => p.gp.post({ ...exampleServiceRequest(), performer: [true] } as never),
      'ServiceRequest.performer[0]',
    ],
    [
      'a study with an object for its identifiers',
      'midlands',
      (p: Pathway) => p.ris.post({ ...studyOf(p), identifier: { value: 'x' } } as never),
      'ImagingStudy.identifier',
    ],
    [
      'a Task update whose meta is a string',
      'midlands',
      (p: Pathway) =>
        p.ris.put(
          { ...(p.midlandsTask as WithId<Task>), status: 'accepted', meta: 'x' } as never,
          p.midlandsTask?.meta?.versionId,
        ),
      'Task.meta',
    ],
    // The labels are dropped before the resource is validated: a malformed meta must not vanish with them.
    [
      'a patient whose meta is a list',
      'north',
      (p: Pathway) => p.gp.post({ ...examplePatient(), meta: [] } as never),
      'Patient.meta',
    ],
    [
      'an order whose meta.security is a string',
      'north',
      (p: Pathway) => p.gp.post({ ...exampleServiceRequest(), meta: { security: 'N81001' } } as never),
      'ServiceRequest.meta.security',
    ],
    [
      'a patient whose meta.tag holds a number',
      'north',
      (p: Pathway) => p.gp.post({ ...examplePatient(), meta: { tag: [1] } } as never),
      'Patient.meta.tag[0]',
    ],
    [
      'a patient with a constructor element',
      'north',
      (p: Pathway) => p.gp.post({ ...examplePatient(), constructor: { prototype: {} } } as never),
      'Patient.constructor',
    ],
  ] as const)('%s', async (_what, region, send, expression) => {
    const p = await pathway();
    const deps = p[region];
    const before = await storedCounts(deps);
    expect(await refusedAt(await send(p), 400)).toContain(expression);
    expect(await storedCounts(deps)).toEqual(before);
  });
});

describe('a client that accepts no JSON gets 406 before anything is written', () => {
  const XML_ONLY = { Accept: 'application/fhir+xml' };
  const newPatient = () => examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(2) }] });
  const newOrder = () => exampleServiceRequest({ identifier: [{ system: SYSTEMS.placerOrder, value: 'N81001-406' }] });
  it.each([
    ['a patient', 'north', (p: Pathway) => p.gp.post(newPatient(), XML_ONLY)],
    ['an order', 'north', (p: Pathway) => p.gp.post(newOrder(), XML_ONLY)],
    ['a study', 'midlands', (p: Pathway) => p.ris.post(studyOf(p), { Accept: 'application/xml, text/plain;q=0.5' })],
    [
      'a report',
      'midlands',
      (p: Pathway) =>
        p.ris.post(reportOf(p), {
          Accept: '*/*, application/fhir+json;q=0, application/json;q=0, application/json+fhir;q=0',
        }),
    ],
  ] as const)('%s', async (_what, region, send) => {
    const p = await pathway();
    const before = await storedCounts(p[region]);
    const res = await send(p);
    expect(res.headers.get('Content-Type')).toContain('application/fhir+json');
    expect(await refusedAt(res, 406)).toEqual([]);
    expect(await storedCounts(p[region])).toEqual(before);
  });

  it('still takes the same write from a client that accepts JSON among other formats', async () => {
    const p = await pathway();
    // HAPI's Java client sends this when told to prefer XML
    const accept = 'application/fhir+xml;q=1.0, application/fhir+json;q=0.9';
    const before = await storedCounts(p.north);
    await created<Patient>(await p.gp.post(newPatient(), { Accept: accept }));
    expect((await storedCounts(p.north)).Patient).toBe((before.Patient ?? 0) + 1);
  });
});

describe("a write never reaches another organisation's records", () => {
  it("refuses another practice's patient as an order's subject, writes nothing, and leaves the patient hidden", async () => {
    const p = await pathway();
    const before = await storedCounts(p.north);
    const res = await p.gp.post(
      exampleServiceRequest({
        identifier: [{ system: SYSTEMS.placerOrder, value: 'N81001-2' }],
        subject: { reference: `Patient/${p.theirPatient.id}` },
      }),
    );
    expect(await refusedAt(res, 422)).toEqual(['ServiceRequest.subject']);
    expect(await storedCounts(p.north)).toEqual(before);
    expect((await p.gp.get(`Patient/${p.theirPatient.id}`)).status).toBe(404);
    // Shared with the performer of their order, and with no one else.
    expect(labelsOf(await p.north.store.read('Patient', p.theirPatient.id)).security).toEqual(access('N81002', 'RM1'));
  });

  it("refuses another practice's patient named by NHS number, without saying it exists", async () => {
    const p = await pathway();
    const before = await storedCounts(p.north);
    const res = await p.gp.post(
      exampleServiceRequest({
        identifier: [{ system: SYSTEMS.placerOrder, value: 'N81001-2' }],
        subject: patientReferenceByNhsNumber(OTHER_NHS),
      }),
    );
    expect(await refusedAt(res, 422)).toEqual(['ServiceRequest.subject']);
    expect(await storedCounts(p.north)).toEqual(before);
    expect((await p.gp.get(`Patient/${p.theirPatient.id}`)).status).toBe(404);
  });

  it.each<[string, (p: Pathway) => Promise<Response>, string, (p: Pathway) => GatewayDeps]>([
    [
      "an order based on another practice's order",
      (p) =>
        p.gp.post(
          exampleServiceRequest({
            identifier: [{ system: SYSTEMS.placerOrder, value: 'N81001-2' }],
            basedOn: [{ reference: `ServiceRequest/${p.theirOrder.id}` }],
          }),
        ),
      'ServiceRequest.basedOn[0]',
      (p) => p.north,
    ],
    [
      "a patient linked to another practice's patient",
      (p) =>
        p.gp.post(
          examplePatient({
            identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(2) }],
            link: [{ other: { reference: `Patient/${p.theirPatient.id}` }, type: 'seealso' }],
          }),
        ),
      'Patient.link[0].other',
      (p) => p.north,
    ],
    [
      "a Task update whose output is another practice's order",
      (p) =>
        p.gp.put(
          {
            ...p.northTask,
            status: 'cancelled',
            output: [{ type: { text: 'x' }, valueReference: { reference: `ServiceRequest/${p.theirOrder.id}` } }],
          },
          p.northTask.meta?.versionId,
        ),
      'Task.output[0].valueReference',
      (p) => p.north,
    ],
    [
      "a study on another provider's endpoint",
      (p) => p.ris.post(studyOf(p, { endpoint: [{ reference: `Endpoint/${p.theirEndpoint.id}` }] })),
      'ImagingStudy.endpoint[0]',
      (p) => p.midlands,
    ],
    [
      'a report citing results this region does not hold',
      (p) => p.ris.post(reportOf(p, { result: [{ reference: 'Observation/x' }] })),
      'DiagnosticReport.result[0]',
      (p) => p.midlands,
    ],
    [
      'an endpoint managed by an organisation record this region does not hold',
      (p) =>
        p.ris.post(
          exampleEndpoint({
            identifier: [{ system: 'https://rm1.example/endpoints', value: 'viewer' }],
            managingOrganization: { ...odsReference('RM1'), reference: 'Organization/RM1' },
          }),
        ),
      'Endpoint.managingOrganization',
      (p) => p.midlands,
    ],
  ])('refuses %s at the reference, and writes nothing', async (_name, write, expression, region) => {
    const p = await pathway();
    const before = await storedCounts(region(p));
    expect(await refusedAt(await write(p), 422)).toEqual([expression]);
    expect(await storedCounts(region(p))).toEqual(before);
    expect((await p.north.store.read<Task>('Task', p.northTask.id)).meta?.versionId).toBe(p.northTask.meta?.versionId);
  });

  it('refuses a study ordered from another provider: the same 422 as for an unknown order, so it is not disclosed', async () => {
    const p = await pathway();
    const res = await p.otherRis.post(studyOf(p, { endpoint: [{ reference: `Endpoint/${p.theirEndpoint.id}` }] }));
    expect((await refusedAt(res, 422)).sort()).toEqual(['ImagingStudy.basedOn[0]', 'ImagingStudy.subject']);
    expect(await searchAll(p.midlands.store, 'ImagingStudy')).toHaveLength(0);
  });

  it("never hands over another organisation's record whose business identifier a write repeats", async () => {
    const p = await pathway();
    const endpoint = await p.ris.post(
      exampleEndpoint({ identifier: [{ system: 'https://rx9.example/endpoints', value: 'pacs' }] }),
    );
    expect(await refusedAt(endpoint, 422)).toEqual(['Endpoint.identifier[0]']);
    expect(await searchAll(p.midlands.store, 'Endpoint')).toHaveLength(2);

    const theirs = await p.midlands.store.create<ImagingStudy>({
      ...studyOf(p, { endpoint: [{ reference: `Endpoint/${p.theirEndpoint.id}` }] }),
      meta: { security: [{ system: ACCESS_SYSTEM, code: 'RX9' }] },
    });
    const before = await storedCounts(p.midlands);
    const study = await p.ris.post(studyOf(p));
    expect(await refusedAt(study, 422)).toEqual(['ImagingStudy.identifier[0]']);
    expect(await storedCounts(p.midlands)).toEqual(before);
    expect((await p.ris.get(`ImagingStudy/${theirs.resource.id}`)).status).toBe(404);
  });
});

describe("access labels are the server's", () => {
  const forged = { security: [{ system: ACCESS_SYSTEM, code: 'N81002' }] };
  it.each<[string, (p: Pathway) => Promise<Response>, (p: Pathway) => GatewayDeps]>([
    [
      'Patient',
      (p) =>
        p.gp.post(
          examplePatient({
            meta: forged,
            identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(2) }],
          }),
        ),
      (p) => p.north,
    ],
    [
      'ServiceRequest',
      (p) =>
        p.gp.post(
          exampleServiceRequest({ meta: forged, identifier: [{ system: SYSTEMS.placerOrder, value: 'N81001-2' }] }),
        ),
      (p) => p.north,
    ],
    [
      'Task',
      (p) =>
        p.gp.put(
          { ...p.northTask, status: 'cancelled', meta: { ...p.northTask.meta, ...forged } },
          p.northTask.meta?.versionId,
        ),
      (p) => p.north,
    ],
    [
      'Endpoint',
      (p) =>
        p.ris.post(
          exampleEndpoint({ meta: forged, identifier: [{ system: 'https://rm1.example/endpoints', value: 'viewer' }] }),
        ),
      (p) => p.midlands,
    ],
    ['ImagingStudy', (p) => p.ris.post(studyOf(p, { meta: forged })), (p) => p.midlands],
    ['DiagnosticReport', (p) => p.ris.post(reportOf(p, { meta: forged })), (p) => p.midlands],
  ])('refuses an access label in a %s with 422 at meta.security, and writes nothing', async (type, write, region) => {
    const p = await pathway();
    const before = await storedCounts(region(p));
    expect(await refusedAt(await write(p), 422)).toEqual([`${type}.meta.security[0]`]);
    expect(await storedCounts(region(p))).toEqual(before);
    expect((await p.north.store.read<Task>('Task', p.northTask.id)).status).toBe('requested');
  });

  it('refuses the peer-service tag', async () => {
    const p = await pathway();
    const res = await p.gp.post(
      exampleServiceRequest({
        identifier: [{ system: SYSTEMS.placerOrder, value: 'N81001-2' }],
        meta: { tag: [{ system: PEER_SERVICE_SYSTEM, code: 'imaging-south' }] },
      }),
    );
    expect(await refusedAt(res, 422)).toEqual(['ServiceRequest.meta.tag[0]']);
  });

  it('drops other security labels (this server would not enforce them) and keeps other tags', async () => {
    const p = await pathway();
    const patient = await created<Patient>(
      await p.gp.post(
        examplePatient({
          identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(2) }],
          meta: {
            security: [{ system: CONFIDENTIALITY, code: 'R' }],
            tag: [{ system: 'https://example.org/tags', code: 'imported' }],
          },
        }),
      ),
    );
    const stored = (await (await p.gp.get(`Patient/${patient.id}`)).json()) as Patient;
    expect(labelsOf(stored)).toEqual({ security: access('N81001'), serverTags: [] });
    expect(stored.meta?.tag).toEqual([{ system: 'https://example.org/tags', code: 'imported' }]);
  });

  it('takes back, unchanged, the labels a client read (a read-modify-write update)', async () => {
    const p = await pathway();
    const read = (await (await p.gp.get(`Task/${p.northTask.id}`)).json()) as WithId<Task>;
    expect(read.meta?.security?.length).toBeGreaterThan(0);
    const res = await p.gp.put({ ...read, status: 'cancelled' }, read.meta?.versionId);
    expect(res.status).toBe(200);
    expect(labelsOf((await res.json()) as Task)).toEqual({
      security: access('N81001', 'RM1'),
      serverTags: peer('imaging-midlands'),
    });
  });
});

describe("a routed message's labels are never trusted", () => {
  it('sends none, and the receiver of an order computes its own', async () => {
    const p = await pathway({ deliver: false });
    const { message, requestId } = await outboxMessage(p.north, ORDER_REQUEST.code, 'N81001-000123');
    expect(message.entry?.map((e) => e.resource?.meta?.security).filter(Boolean)).toEqual([]);

    expect((await p.hubAtMidlands.message(withForgedLabels(message), requestId)).status).toBe(200);
    const order = (await byIdentifier<ServiceRequest>(
      p.midlands,
      'ServiceRequest',
      SYSTEMS.placerOrder,
      'N81001-000123',
    )) as ServiceRequest;
    const [task] = await searchAll<Task>(p.midlands.store, 'Task', { focus: `ServiceRequest/${order.id}` });
    const [patient] = await searchAll<Patient>(p.midlands.store, 'Patient');
    for (const shared of [order, task as Task])
      expect(labelsOf(shared)).toEqual({ security: access('N81001', 'RM1'), serverTags: peer('imaging-north') });
    expect(labelsOf(patient as Patient)).toEqual({ security: access('N81001', 'RM1'), serverTags: [] });
  });

  it("sends none, and the receiver of a report computes its own from its order's", async () => {
    const p = await pathway();
    const study = await created<ImagingStudy>(await p.ris.post(studyOf(p)));
    await created(await p.ris.post(reportOf(p, { imagingStudy: [{ reference: `ImagingStudy/${study.id}` }] })));
    const { message, requestId } = await outboxMessage(p.midlands, REPORT_ISSUED.code, 'RM1-REP-000123');
    expect(message.entry?.map((e) => e.resource?.meta?.security).filter(Boolean)).toEqual([]);

    expect((await p.hubAtNorth.message(withForgedLabels(message), requestId)).status).toBe(200);
    const received = [
      ...(await searchAll(p.north.store, 'DiagnosticReport')),
      ...(await searchAll(p.north.store, 'ImagingStudy')),
      ...(await searchAll(p.north.store, 'Endpoint')),
    ];
    expect(received.map((r) => r.resourceType).sort()).toEqual(['DiagnosticReport', 'Endpoint', 'ImagingStudy']);
    for (const r of received)
      expect(labelsOf(r)).toEqual({ security: access('N81001', 'RM1'), serverTags: peer('imaging-midlands') });
  });
});

describe('property: after any write, the stored labels are exactly the ones the server computes', () => {
  const coding = fc.record(
    {
      system: fc.constantFrom(ACCESS_SYSTEM, PEER_SERVICE_SYSTEM, CONFIDENTIALITY, 'https://example.org/labels'),
      code: fc.oneof(
        fc.constantFrom('N81001', 'N81002', 'RM1', 'RX9', 'imaging-north', 'imaging-midlands', 'R'),
        fc.stringMatching(/^[A-Za-z0-9-]{1,12}$/),
      ),
      display: fc.stringMatching(/^[A-Za-z][A-Za-z ]{0,10}$/),
    },
    { requiredKeys: ['system'] },
  );
  // Security labels in any shape: a Coding that is no JSON object is a 400, the others are dropped or refused
  // before validation; tags must be valid FHIR.
  const securityArb = fc.array(fc.oneof(coding, fc.constant({}), fc.constant(null), fc.string()), { maxLength: 5 });
  const tagArb = fc.array(
    fc.record({
      system: fc.constantFrom(PEER_SERVICE_SYSTEM, ACCESS_SYSTEM, 'https://example.org/tags'),
      code: fc.constantFrom('imaging-north', 'imaging-midlands', 'N81001', 'RM1', 'imported'),
    }),
    { maxLength: 3 },
  );

  interface Write {
    type: Resource['resourceType'];
    deps: GatewayDeps;
    /** What the server computes for the written resource: its security labels and its server tags. */
    expected: ReturnType<typeof labelsOf>;
    /** The server-system labels already stored, by list (an update may send them back where it read them). */
    stored: { security: string[]; tag: string[] };
    send(meta: Resource['meta']): Promise<Response>;
    id(res: Response): Promise<string>;
  }

  it('holds for any meta.security and meta.tag a client sends', async () => {
    const p = await pathway();
    let n = 10;
    const idOfBody = async (res: Response) => ((await res.json()) as WithId<Resource>).id;
    const writes: Record<string, () => Promise<Write>> = {
      Patient: async () => ({
        type: 'Patient',
        deps: p.north,
        expected: { security: access('N81001'), serverTags: [] },
        stored: { security: [], tag: [] },
        send: (meta) =>
          p.gp.post(
            examplePatient({
              meta,
              identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(n++) }],
            }),
          ),
        id: idOfBody,
      }),
      ServiceRequest: async () => ({
        type: 'ServiceRequest',
        deps: p.north,
        expected: { security: access('N81001', 'RM1'), serverTags: peer('imaging-midlands') },
        stored: { security: [], tag: [] },
        send: (meta) =>
          p.gp.post(
            exampleServiceRequest({ meta, identifier: [{ system: SYSTEMS.placerOrder, value: `N81001-p${n++}` }] }),
          ),
        id: idOfBody,
      }),
      Endpoint: async () => ({
        type: 'Endpoint',
        deps: p.midlands,
        expected: { security: access('RM1'), serverTags: [] },
        stored: { security: [], tag: [] },
        send: (meta) =>
          p.ris.post(
            exampleEndpoint({ meta, identifier: [{ system: 'https://rm1.example/endpoints', value: `e${n++}` }] }),
          ),
        id: idOfBody,
      }),
      Task: async () => {
        const current = await p.midlands.store.read<Task>('Task', p.midlandsTask?.id as string);
        const expected = { security: access('N81001', 'RM1'), serverTags: peer('imaging-north') };
        return {
          type: 'Task',
          deps: p.midlands,
          expected,
          stored: { security: expected.security, tag: expected.serverTags },
          send: (meta) => p.ris.put({ ...current, meta, note: [{ text: `note ${n++}` }] }, current.meta?.versionId),
          id: async () => current.id,
        };
      },
    };

    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(writes)), securityArb, tagArb, async (kind, security, tag) => {
        const write = await (writes[kind] as () => Promise<Write>)();
        const before = await storedCounts(write.deps);
        const versionBefore = p.midlandsTask
          ? (await p.midlands.store.read<Task>('Task', p.midlandsTask.id)).meta?.versionId
          : undefined;
        const isServerCoding = (c: unknown): c is Coding =>
          !!c && typeof c === 'object' && SERVER_SYSTEMS.includes((c as Coding).system);
        const foreign = (c: unknown, list: 'security' | 'tag') =>
          isServerCoding(c) && !write.stored[list].includes(`${c.system}|${c.code}`);
        const refusedAtPaths = [
          ...security.flatMap((c, i) => (foreign(c, 'security') ? [`${write.type}.meta.security[${i}]`] : [])),
          ...tag.flatMap((c, i) => (foreign(c, 'tag') ? [`${write.type}.meta.tag[${i}]`] : [])),
        ];
        const malformedAtPaths = security.flatMap((c, i) =>
          c === null || typeof c !== 'object' ? [`${write.type}.meta.security[${i}]`] : [],
        );
        const res = await write.send({ security: security as Coding[], tag });
        if (malformedAtPaths.length > 0) {
          // A 400: a malformed label does not vanish with the labels the server drops; every problem is named.
          expect((await refusedAt(res, 400)).sort()).toEqual([...malformedAtPaths, ...refusedAtPaths].sort());
          expect(await storedCounts(write.deps)).toEqual(before);
          return;
        }
        if (refusedAtPaths.length > 0) {
          expect(await refusedAt(res, 422)).toEqual(refusedAtPaths);
          expect(await storedCounts(write.deps)).toEqual(before);
          expect((await p.midlands.store.read<Task>('Task', p.midlandsTask?.id as string)).meta?.versionId).toBe(
            versionBefore,
          );
          return;
        }
        expect(res.status, await res.clone().text()).toBeLessThan(300);
        const stored = await write.deps.store.read(write.type, await write.id(res));
        expect(labelsOf(stored)).toEqual(write.expected);
      }),
      { numRuns: 100 },
    );
  });
});

describe("an order's case: searched for other requesters unless this request named it", () => {
  /** The north gateway over a store that counts the searches for a case's orders (Task by group-identifier). */
  async function countingGateway() {
    const regions = testRegions();
    let caseSearches = 0;
    const store = new Proxy(regions.north.store, {
      get: (target, key) =>
        key === 'search'
          ? (type: string, query: URLSearchParams) => {
              if (type === 'Task' && new URLSearchParams(query).has('group-identifier')) caseSearches++;
              return target.search(type as 'Task', query);
            }
          : Reflect.get(target, key),
    });
    const gateway = await testGateway({ ...regions.north, store });
    return { regions, gateway, caseSearches: () => caseSearches };
  }

  it('with no ids at all, the case is a new name of its own: the order is placed without the search', async () => {
    const { regions, gateway, caseSearches } = await countingGateway();
    const gp = await clientOf(gateway, GP_TOKEN);
    await created<Patient>(await gp.post(examplePatient()));
    const before = caseSearches();
    const res = await gp.post(exampleServiceRequest());
    const order = await created<ServiceRequest>(res);
    expect(caseSearches()).toBe(before);
    const [task] = await searchAll<Task>(regions.north.store, 'Task', { focus: `ServiceRequest/${order.id}` });
    expect(task?.groupIdentifier?.value).toBe(res.headers.get('X-Correlation-ID'));
  });

  it('with an X-Correlation-ID, or only an X-Request-ID (the case then), the search is made', async () => {
    const { gateway, caseSearches } = await countingGateway();
    const gp = await clientOf(gateway, GP_TOKEN);
    await created<Patient>(await gp.post(examplePatient()));
    const placer = (n: number) => [{ system: SYSTEMS.placerOrder, value: `N81001-CASE-${n}` }];
    let searches = caseSearches();
    await created(await gp.post(exampleServiceRequest({ identifier: placer(1) }), { 'X-Correlation-ID': 'case-a' }));
    expect(caseSearches()).toBeGreaterThan(searches);
    searches = caseSearches();
    await created(await gp.post(exampleServiceRequest({ identifier: placer(2) }), { 'X-Request-ID': 'case-b' }));
    expect(caseSearches()).toBeGreaterThan(searches);
  });

  it("refuses (403) an order whose only X-Request-ID names another organisation's case", async () => {
    const { gateway } = await countingGateway();
    const otherGp = await clientOf(gateway, OTHER_GP);
    const theirPatient = await created<Patient>(
      await otherGp.post(examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: OTHER_NHS }] })),
    );
    await created(
      await otherGp.post(
        exampleServiceRequest({
          identifier: [{ system: SYSTEMS.placerOrder, value: 'N81002-1' }],
          subject: { reference: `Patient/${theirPatient.id}` },
          requester: odsReference('N81002'),
        }),
        { 'X-Correlation-ID': 'case-theirs' },
      ),
    );
    const gp = await clientOf(gateway, GP_TOKEN);
    await created<Patient>(await gp.post(examplePatient()));
    const res = await gp.post(exampleServiceRequest(), { 'X-Request-ID': 'case-theirs' });
    expect(await refusedAt(res, 403)).toEqual(['http.X-Correlation-ID']);
  });
});
