import type { AuditEvent, Bundle, OperationOutcome, Resource, ResourceType, ServiceRequest } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, searchAll, SYSTEMS, testNhsNumber } from '@imaging/fhir';
import type { GatewayDeps } from './domain/ports.ts';
import { devTopology } from '@imaging/config';
import { trailSourceOf } from '@imaging/fhir-http';
import { examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { afterAll, describe, expect, it } from 'vitest';
import { readCaseTrail } from './domain/case-trail-access.ts';
import { deliverDue } from './domain/delivery.ts';
import { placeOrder } from './domain/orders.ts';
import { registerPatient } from './domain/registrations.ts';
import { GP_TOKEN, OBSERVER_TOKEN, RIS_TOKEN, testGateway } from './testing/app.ts';
import { connectedRegions } from './testing/national.ts';
import { orderOf, reportedCase } from './testing/pathway.ts';
import { GP, testRegions } from './testing/regions.ts';

/**
 * The audit trail (DOMAIN.md requirement 22): an AuditEvent for every state change, stored with it; one for
 * every disclosure, stored in the background; none that a client can write; and a case's trail, with them,
 * for the flow view, auditors and the case's own organisations, rebuilt across regions by the hub.
 */

const audits = (deps: GatewayDeps) => searchAll<AuditEvent>(deps.store, 'AuditEvent');
const subtypeOf = (event: AuditEvent) => event.subtype?.[0]?.code as string;
const subtypes = async (deps: GatewayDeps) => (await audits(deps)).map(subtypeOf).sort();
const ofSubtype = async (deps: GatewayDeps, subtype: string) =>
  (await audits(deps)).filter((e) => subtypeOf(e) === subtype);
const caseOf = (event: AuditEvent) =>
  event.entity?.find((e) => e.what?.identifier?.system === SYSTEMS.correlation)?.what?.identifier?.value;
const whatOf = (event: AuditEvent) => event.entity?.flatMap((e) => (e.what?.reference ? [e.what.reference] : []));

describe('every state change leaves its AuditEvent, in the same transaction', () => {
  it('a whole case: each write by a client, each message from the other region, each delivery', async () => {
    const { regions, north, midlands } = await reportedCase();
    expect(await subtypes(regions.north)).toEqual(
      [
        'patient-registered',
        'order-placed',
        // The order, to the midlands.
        'delivery-completed',
        // From the midlands: three status updates and the report; each is delivered into the north.
        ...Array(4).fill('message-received'),
      ].sort(),
    );
    expect(await subtypes(regions.midlands)).toEqual(
      [
        'message-received',
        // The example order is dated 5 January 2026 and tested only now, over 6 weeks later: a DM01 breach.
        'breach-raised',
        ...Array(3).fill('task-updated'),
        'endpoint-registered',
        'study-recorded',
        'report-issued',
        // Three status updates and the report to the north, two pointers to the locator.
        ...Array(6).fill('delivery-completed'),
      ].sort(),
    );

    const [placed] = await ofSubtype(regions.north, 'order-placed');
    expect(placed).toMatchObject({ action: 'C', outcome: '0', agent: [{ altId: 'gp-n81001', requestor: true }] });
    expect(placed?.agent[0]?.who?.identifier?.value).toBe('N81001');
    // References within the transaction are stored as the resources' own.
    expect(whatOf(placed as AuditEvent)).toEqual([
      `Patient/${north.Patient.id}`,
      `ServiceRequest/${north.ServiceRequest.id}`,
      `Task/${north.Task.id}`,
    ]);
    expect(caseOf(placed as AuditEvent)).toBe('case-1');

    // Who changed the midlands' copy: the north's service, as the hub delivered its message.
    const [received] = await ofSubtype(regions.midlands, 'message-received');
    expect(received?.agent[0]?.who?.identifier).toEqual({ system: SYSTEMS.serviceId, value: 'imaging-north' });
    expect(whatOf(received as AuditEvent)).toEqual(
      expect.arrayContaining([`ServiceRequest/${midlands.ServiceRequest.id}`, `Patient/${midlands.Patient.id}`]),
    );
    expect(received?.agent[0]?.requestor).toBe(true);
    // Every change it names is a literal reference to a stored resource (HAPI refuses a bare `Task`).
    for (const event of await ofSubtype(regions.midlands, 'message-received')) {
      for (const reference of whatOf(event) ?? []) {
        expect(reference).toMatch(/^[A-Z][A-Za-z]+\/[^/?]+$/);
        const [type, id] = reference.split('/') as [ResourceType, string];
        await expect(regions.midlands?.store.read(type, id)).resolves.toMatchObject({ id });
      }
    }

    const updates = await ofSubtype(regions.midlands, 'task-updated');
    expect(
      updates.map((e) => e.entity?.flatMap((x) => x.detail ?? []).find((d) => d.type === 'status')?.valueString),
    ).toEqual(expect.arrayContaining(['requested → accepted', 'accepted → in-progress', 'in-progress → completed']));
    const [delivered] = await ofSubtype(regions.north, 'delivery-completed');
    expect(delivered).toMatchObject({ action: 'E', outcome: '0', agent: [{ name: 'gateway north' }] });
  });

  it('a replayed create changes nothing, and records nothing; access granted to a patient is recorded', async () => {
    const { north } = testRegions();
    await registerPatient(north, GP, examplePatient());
    await registerPatient(north, GP, examplePatient());
    const order = exampleServiceRequest();
    const first = await placeOrder(north, GP, order, 'case-1');
    const again = await placeOrder(north, GP, order, 'case-1');
    expect(again).toMatchObject({ created: false, serviceRequest: { id: first.serviceRequest.id } });
    expect(await subtypes(north)).toEqual(['order-placed', 'patient-registered']);

    const otherPractice = { ...GP, clientId: 'gp-n81002', organisation: 'N81002' };
    await registerPatient(north, otherPractice, examplePatient());
    const [granted] = await ofSubtype(north, 'patient-access-granted');
    expect(granted).toMatchObject({ action: 'U', agent: [{ altId: 'gp-n81002' }] });
  });
});

describe('a disclosure leaves one AuditEvent per request, stored in the background', () => {
  it('a read and a search record who saw which resources of which patients, with the query', async () => {
    const { north } = testRegions();
    await registerPatient(north, GP, examplePatient());
    const placed = await placeOrder(north, GP, exampleServiceRequest(), 'case-1');
    const { app, token, disclosures } = await testGateway(north);
    const auth = { Authorization: `Bearer ${await token(GP_TOKEN)}`, 'X-Correlation-ID': 'case-1' };

    const read = await app.request(`/fhir/ServiceRequest/${placed.serviceRequest.id}`, { headers: auth });
    expect(read.status).toBe(200);
    const search = await app.request('/fhir/Task?status=requested', { headers: auth });
    expect(search.status).toBe(200);
    // Nothing is stored on the read's path.
    expect(await ofSubtype(north, 'resource-read')).toEqual([]);
    await disclosures.flush();

    const [readEvent] = await ofSubtype(north, 'resource-read');
    const patient = placed.serviceRequest.subject?.reference;
    expect(readEvent).toMatchObject({
      action: 'R',
      agent: [{ altId: 'gp-n81001', who: { identifier: { value: 'N81001' } } }],
    });
    expect(whatOf(readEvent as AuditEvent)).toEqual([patient, `ServiceRequest/${placed.serviceRequest.id}/_history/1`]);
    expect(caseOf(readEvent as AuditEvent)).toBe('case-1');
    const searched = await ofSubtype(north, 'resources-searched');
    expect(searched).toHaveLength(1);
    expect(whatOf(searched[0] as AuditEvent)).toEqual([patient, `Task/${placed.task.id}/_history/1`]);
    const query = searched[0]?.entity?.find((e) => e.query)?.query as string;
    expect(Buffer.from(query, 'base64').toString()).toBe('Task?status=requested');
  });
});

describe('AuditEvents cannot be written through the API', () => {
  it.each([
    'POST /fhir/AuditEvent',
    'PUT /fhir/AuditEvent/a1',
    'PATCH /fhir/AuditEvent/a1',
    'DELETE /fhir/AuditEvent/a1',
  ])('%s is a 405 with an OperationOutcome, and nothing is written', async (call) => {
    const { north } = testRegions();
    await registerPatient(north, GP, examplePatient());
    const [before] = await audits(north);
    const { app, token } = await testGateway(north);
    const [method, path] = call.split(' ') as [string, string];
    const response = await app.request(path, {
      method,
      headers: {
        Authorization: `Bearer ${await token({ ...GP_TOKEN, scope: ['system/*.cruds'] })}`,
        'Content-Type': 'application/fhir+json',
      },
      body: JSON.stringify({ ...before, id: method === 'POST' ? undefined : 'a1', outcome: '0' }),
    });
    expect(response.status).toBe(405);
    const outcome = (await response.json()) as OperationOutcome;
    expect(outcome.issue[0]).toMatchObject({ severity: 'error', code: 'not-supported' });
    expect(outcome.issue[0]?.diagnostics ?? outcome.issue[0]?.details?.text).toMatch(/never changed or deleted/);
    expect(await audits(north)).toEqual([before]);
  });
});

describe('a case’s trail at a gateway', () => {
  const setUp = async () => {
    const { north } = testRegions();
    await registerPatient(north, GP, examplePatient());
    await placeOrder(north, GP, exampleServiceRequest(), 'case-1');
    const { app, token, disclosures } = await testGateway(north);
    const trail = async (claims: Parameters<typeof token>[0], query = 'correlation-id=case-1') => {
      const response = await app.request(`/fhir/$case-trail?${query}`, {
        headers: { Authorization: `Bearer ${await token(claims)}` },
      });
      return { status: response.status, body: (await response.json()) as Bundle };
    };
    return { north, trail, disclosures };
  };
  const types = (bundle: Bundle) => (bundle.entry ?? []).map((e) => e.resource?.resourceType);
  const AUDITOR = { sub: 'auditor', client_kind: 'observer' as const, scope: ['system/AuditEvent.rs'] };

  it('the case’s own organisation, the flow view and an auditor see it, with its AuditEvents, in time order', async () => {
    const { north, trail, disclosures } = await setUp();
    for (const claims of [GP_TOKEN, OBSERVER_TOKEN, AUDITOR, { ...AUDITOR, region: 'north' }]) {
      const { status, body } = await trail(claims);
      expect(status).toBe(200);
      expect(types(body)).toContain('ServiceRequest');
      expect(types(body)).toContain('AuditEvent');
      expect(body.entry?.every((e) => trailSourceOf(e) === 'north')).toBe(true);
    }
    // `correlation` is the same parameter.
    const { body: byAlias } = await trail(GP_TOKEN, 'correlation=case-1');
    expect(types(byAlias)).toContain('ServiceRequest');

    // Each reading is recorded, and the next reader sees who read it.
    await disclosures.flush();
    const reads = await ofSubtype(north, 'case-trail-disclosed');
    expect(reads.map((e) => e.agent[0]?.altId)).toEqual(['gp-n81001', 'flow-view', 'auditor', 'auditor', 'gp-n81001']);
    const { body } = await trail(AUDITOR);
    const events = (body.entry ?? [])
      .map((e) => e.resource)
      .filter((r): r is AuditEvent => r?.resourceType === 'AuditEvent');
    // The registration of the patient is not part of the case (it came with no case's correlation id).
    expect(events.map(subtypeOf)).toEqual(['order-placed', ...Array(5).fill('case-trail-disclosed')]);
  });

  it('another organisation of the region gets what an unknown case gets', async () => {
    const { trail } = await setUp();
    const unknown = await trail(OBSERVER_TOKEN, 'correlation-id=case-unknown');
    const refused = await trail({ ...GP_TOKEN, sub: 'gp-n81002', org: 'N81002' });
    expect(refused.status).toBe(unknown.status);
    expect(refused.body.entry ?? []).toEqual([]);
    expect({ ...refused.body, timestamp: undefined }).toEqual({ ...unknown.body, timestamp: undefined });
  });

  // Refused by the token alone, whatever the case: a 403 that says nothing about any case.
  it.each<[string, Parameters<Awaited<ReturnType<typeof setUp>>['trail']>[0]]>([
    ['a client of another region', { ...GP_TOKEN, region: 'midlands' }],
    ['the performer’s client, of another region (it reads its own copy at its own gateway)', RIS_TOKEN],
    [
      'a client with neither scope nor organisation',
      { sub: 'viewer', client_kind: 'observer', scope: ['flow/events'] },
    ],
    ['an auditor of another region', { ...AUDITOR, region: 'midlands' }],
  ])('%s is refused (403), for a real case and an unknown one alike', async (_, claims) => {
    const { trail } = await setUp();
    const real = await trail(claims);
    const unknown = await trail(claims, 'correlation-id=case-unknown');
    expect(real.status).toBe(403);
    expect((real.body as unknown as OperationOutcome).issue[0]?.code).toBe('forbidden');
    expect({ ...unknown.body }).toEqual({ ...real.body });
  });

  it.each([
    ['no case', ''],
    ['two different cases', 'correlation-id=case-1&correlation=case-2'],
    ['a case that is not an id', 'correlation-id=case%201'],
  ])('%s is a 400 OperationOutcome', async (_, query) => {
    const { trail } = await setUp();
    const { status, body } = await trail(OBSERVER_TOKEN, query);
    expect(status).toBe(400);
    expect((body as unknown as OperationOutcome).issue[0]).toMatchObject({
      severity: 'error',
      expression: ['correlation-id'],
    });
  });
});

describe('a case’s trail at the hub', async () => {
  // A national auditor, besides the development topology's clients.
  const topology = devTopology();
  topology.clients.push({ id: 'auditor', kind: 'observer', scopes: ['system/AuditEvent.rs'] });
  const world = await connectedRegions({ topology });
  afterAll(() => world.close());
  const nhs = { system: NHS_NUMBER_SYSTEM, value: testNhsNumber(7) };
  await registerPatient(world.north.deps, GP, examplePatient({ identifier: [nhs] }));
  await placeOrder(
    world.north.deps,
    GP,
    exampleServiceRequest({ subject: { type: 'Patient', identifier: nhs } }),
    'case-hub-1',
  );
  await deliverDue(world.north.deps);

  const trailAtHub = async (clientId: string, query = 'correlation-id=case-hub-1') => {
    const response = await world.fetch(`${world.hub.publicUrl}/fhir/$case-trail?${query}`, {
      headers: { Authorization: `Bearer ${await world.tokenFor(clientId)}` },
    });
    return { status: response.status, body: (await response.json()) as Bundle };
  };
  const sourced = (bundle: Bundle) =>
    (bundle.entry ?? []).map((e) => `${trailSourceOf(e)} ${e.resource?.resourceType} ${subtypeOr(e.resource)}`);
  const subtypeOr = (r: Resource | undefined) => (r?.resourceType === 'AuditEvent' ? subtypeOf(r) : '');

  it('rebuilds the case from every region it passed through, each entry marked with its region, in time order', async () => {
    const { status, body } = await trailAtHub('auditor');
    expect(status).toBe(200);
    const entries = sourced(body);
    expect(entries).toEqual(
      expect.arrayContaining([
        'north ServiceRequest ',
        'north AuditEvent order-placed',
        'north AuditEvent delivery-completed',
        'hub AuditEvent message-routed',
        'midlands ServiceRequest ',
        'midlands AuditEvent message-received',
      ]),
    );
    expect(entries.some((e) => e.startsWith('south'))).toBe(false);
    const at = (e: NonNullable<Bundle['entry']>[number]) =>
      Date.parse(
        e.resource?.resourceType === 'AuditEvent' ? e.resource.recorded : (e.resource?.meta?.lastUpdated ?? ''),
      );
    const times = (body.entry ?? []).map(at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // Each region recorded the hub's reading of its trail; the hub recorded who it gave the whole to.
    await world.north.disclosures.flush();
    const [read] = await ofSubtype(world.north.deps, 'case-trail-disclosed');
    expect(read?.agent[0]?.altId).toBe('national-hub');
    const again = sourced((await trailAtHub('auditor')).body);
    expect(again).toContain('hub AuditEvent case-trail-disclosed');
  });

  it('the case’s own organisations may read it there too; anyone else gets what an unknown case gets', async () => {
    for (const own of ['gp-n81001', 'ris-rm1']) {
      const { body } = await trailAtHub(own);
      expect(sourced(body)).toContain('midlands ServiceRequest ');
    }
    const unknown = await trailAtHub('auditor', 'correlation-id=case-unknown');
    expect(unknown.body.entry ?? []).toEqual([]);
    for (const stranger of ['gp-n81002', 'gateway-north', 'clinician-rs1']) {
      const refused = await trailAtHub(stranger);
      expect(refused.status).toBe(unknown.status);
      expect(refused.body.entry ?? []).toEqual([]);
    }
    const bad = await trailAtHub('auditor', 'correlation-id=case-hub-1&correlation=case-hub-2');
    expect(bad.status).toBe(400);
  });

  it('each entry’s fullUrl answers, at the hub and in the regions, to those who may read any trail', async () => {
    const { body } = await trailAtHub('auditor');
    const routed = (body.entry ?? []).find(
      (e) => sourced({ entry: [e] } as Bundle)[0] === 'hub AuditEvent message-routed',
    );
    const delivered = (body.entry ?? []).find(
      (e) => sourced({ entry: [e] } as Bundle)[0] === 'north AuditEvent delivery-completed',
    );
    expect(routed?.fullUrl?.startsWith(`${world.hub.publicUrl}/fhir/AuditEvent/`)).toBe(true);
    for (const entry of [routed, delivered]) {
      for (const reader of ['auditor', 'flow-view']) {
        const res = await world.fetch(entry?.fullUrl as string, {
          headers: { Authorization: `Bearer ${await world.tokenFor(reader)}` },
        });
        expect(res.status, `${reader} at ${entry?.fullUrl}`).toBe(200);
        expect(await res.json()).toEqual(entry?.resource);
      }
    }
    // The hub records who read its AuditEvent of the routing, and the patient that names.
    const hubReads = (await searchAll<AuditEvent>(world.hub.store, 'AuditEvent')).filter(
      (e) =>
        subtypeOf(e) === 'audit-event-read' && whatOf(e)?.includes(`AuditEvent/${routed?.resource?.id}/_history/1`),
    );
    expect(hubReads.map((e) => e.agent.find((a) => a.requestor)?.altId).sort()).toEqual(['auditor', 'flow-view']);
    expect(hubReads[0]?.entity?.some((e) => e.what?.identifier?.value === nhs.value)).toBe(true);
    // The case's own GP reads the hub's AuditEvents in the case's trail, not one by one; the gateways neither.
    for (const refused of ['gp-n81001', 'gateway-north']) {
      const res = await world.fetch(routed?.fullUrl as string, {
        headers: { Authorization: `Bearer ${await world.tokenFor(refused)}` },
      });
      expect(res.status).toBe(403);
      expect(((await res.json()) as OperationOutcome).issue[0]?.code).toBe('forbidden');
    }
  });

  it('a region that cannot be read is said to be missing, not left out silently', async () => {
    world.setDown('midlands', true);
    try {
      const { body } = await trailAtHub('auditor');
      const missing = (body.entry ?? []).find((e) => e.resource?.resourceType === 'OperationOutcome');
      expect(missing && trailSourceOf(missing)).toBe('midlands');
      expect(JSON.stringify(missing?.resource)).toMatch(/region midlands is missing/);
      expect(sourced(body)).toContain('north ServiceRequest ');
    } finally {
      world.setDown('midlands', false);
    }
  });
});

describe('a case name two regions’ requesters both use is no organisation’s at the hub', async () => {
  // A practice in the south, besides the development topology's clients.
  const topology = devTopology();
  const gpNorth = topology.clients.find((c) => c.id === 'gp-n81001');
  topology.clients.push({
    ...(gpNorth as NonNullable<typeof gpNorth>),
    id: 'gp-s81001',
    region: 'south',
    organisation: 'S81001',
  });
  topology.clients.push({ id: 'auditor', kind: 'observer', scopes: ['system/AuditEvent.rs'] });
  const world = await connectedRegions({ topology });
  afterAll(() => world.close());
  const SOUTH_GP = { clientId: 'gp-s81001', kind: 'referrer' as const, organisation: 'S81001', region: 'south' };
  const orderIn = async (deps: GatewayDeps, caller: typeof GP, placer: string, nhsIndex: number) => {
    await orderOf(deps, caller, placer, nhsIndex, 'case-shared-1');
    await deliverDue(deps);
  };
  // The north's practice orders from the midlands; then the south's names the same case in an order to the
  // midlands too. The midlands refuses it (it holds the case for N81001), but the hub routed it: the south's
  // trail is part of the case as the hub sees it.
  await orderIn(world.north.deps, GP, 'N81001-000900', 8);
  await orderIn(world.south.deps, SOUTH_GP, 'S81001-000900', 9);

  const trailAtHub = async (clientId: string) => {
    const response = await world.fetch(`${world.hub.publicUrl}/fhir/$case-trail?correlation-id=case-shared-1`, {
      headers: { Authorization: `Bearer ${await world.tokenFor(clientId)}` },
    });
    const body = (await response.json()) as Bundle;
    return (body.entry ?? []).map((e) => `${trailSourceOf(e)} ${e.resource?.resourceType}`);
  };

  it('neither practice reads the other’s order through it; a national auditor sees both', async () => {
    const whole = await trailAtHub('auditor');
    expect(whole).toEqual(expect.arrayContaining(['north ServiceRequest', 'south ServiceRequest']));
    for (const practice of ['gp-s81001', 'gp-n81001', 'ris-rm1']) expect(await trailAtHub(practice)).toEqual([]);
  });

  it('while a region of the case cannot be read, its organisations’ readings fail closed (503); an auditor’s does not', async () => {
    const statusAtHub = async (clientId: string) => {
      const res = await world.fetch(`${world.hub.publicUrl}/fhir/$case-trail?correlation-id=case-shared-1`, {
        headers: { Authorization: `Bearer ${await world.tokenFor(clientId)}` },
      });
      return { status: res.status, body: (await res.json()) as Bundle | OperationOutcome };
    };
    // With the north and the midlands down, the hub sees only the south's order: S81001, which named the
    // north's case, would look like its one requester and read the hub's AuditEvents of N81001's order.
    world.setDown('north', true);
    world.setDown('midlands', true);
    try {
      for (const member of ['gp-s81001', 'ris-rm1']) {
        const { status, body } = await statusAtHub(member);
        expect(status, member).toBe(503);
        expect((body as OperationOutcome).issue?.map((i) => i.code)).toEqual(['transient']);
        expect(JSON.stringify(body)).not.toMatch(/north|midlands/);
      }
      expect(await trailAtHub('auditor')).toEqual(
        expect.arrayContaining(['south ServiceRequest', 'north OperationOutcome', 'midlands OperationOutcome']),
      );
      // Not in the case at all: the empty trail of an unknown case, as before.
      const stranger = await statusAtHub('gp-n81002');
      expect([stranger.status, (stranger.body as Bundle).type, (stranger.body as Bundle).entry]).toEqual([
        200,
        'collection',
        undefined,
      ]);
    } finally {
      world.setDown('north', false);
      world.setDown('midlands', false);
    }
  });

  it('each practice still reads its own orders in its own region’s trail', async () => {
    const own = await readCaseTrail(
      world.south.deps,
      { caller: SOUTH_GP, observer: false, auditor: false },
      'case-shared-1',
    );
    const orders = own.filter((r): r is ServiceRequest & { id: string } => r.resourceType === 'ServiceRequest');
    expect(orders.map((o) => o.identifier?.[0]?.value)).toEqual(['S81001-000900']);
  });
});
