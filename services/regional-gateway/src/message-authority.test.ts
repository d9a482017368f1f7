import type {
  AuditEvent,
  Bundle,
  DiagnosticReport,
  Endpoint,
  ImagingStudy,
  OperationOutcome,
  Patient,
  Reference,
  Resource,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import {
  CODE_SYSTEMS,
  DICOM_UID_SYSTEM,
  ODS_SYSTEM,
  patientReferenceByNhsNumber,
  searchAll,
  SYSTEMS,
  testNhsNumber,
} from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import {
  exampleDiagnosticReport,
  exampleEndpoint,
  exampleFulfilmentTask,
  exampleImagingStudy,
  examplePatient,
  exampleServiceRequest,
} from '@imaging/fhir/examples';
import {
  buildMessage,
  isMessageRefusal,
  MESSAGE_HEADERS,
  ORDER_REQUEST,
  REPORT_ISSUED,
  TASK_UPDATE,
} from '@imaging/messaging';
import type { MessageEventDefinition } from '@imaging/messaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverDue } from './domain/delivery.ts';
import { placeOrder } from './domain/orders.ts';
import { registerEndpoint, registerPatient } from './domain/registrations.ts';
import { issueReport, recordImagingStudy } from './domain/results.ts';
import { updateTask } from './domain/tasks.ts';
import type { ConnectedRegion } from './testing/national.ts';
import { connectedRegions } from './testing/national.ts';
import { RN1_RIS } from './testing/alerts.ts';
import { GP, RIS } from './testing/regions.ts';

/**
 * Routed content is checked against the directory and the stored case, never taken on its own word:
 * at the hub before it forwards, and again at the receiver before it applies. Each attack below is made
 * with a real region's credentials (`gateway-south`) through the real hub and gateway apps.
 */
const world = await connectedRegions();
afterAll(() => world.close());
const { north, midlands, south, hub } = world;

const fulfilment = (region: ConnectedRegion) =>
  searchAll<Task>(region.deps.store, 'Task', { code: `${CODE_SYSTEMS.taskCode}|fulfil` });

/** A north GP's order for RM1 (midlands), worked, reported and completed: the north copy is completed with its report. */
let northTask: WithId<Task>;
/** A second north order for RM1, accepted but not yet reported. */
let openOrder: WithId<ServiceRequest>;

beforeAll(async () => {
  await registerPatient(north.deps, GP, examplePatient());
  const placed = await placeOrder(north.deps, GP, exampleServiceRequest(), 'case-done');
  await placeOrder(
    north.deps,
    GP,
    exampleServiceRequest({ identifier: [{ system: SYSTEMS.placerOrder, value: 'N81001-000124' }] }),
    'case-open',
  );
  expect(await deliverDue(north.deps)).toMatchObject({ delivered: 2, failed: 0 });

  const copies = await fulfilment(midlands);
  const isDone = (t: Task) => t.identifier?.[0]?.value === placed.task.identifier?.[0]?.value;
  const done = copies.find(isDone) as WithId<Task>;
  const open = copies.find((t) => !isDone(t)) as WithId<Task>;
  const move = (task: WithId<Task>, status: Task['status'], extra: Partial<Task> = {}) =>
    updateTask(midlands.deps, RIS, task.id, { ...task, status, ...extra }, task.meta?.versionId, 'case');
  await move(open, 'accepted');

  const started = await move(await move(done, 'accepted'), 'in-progress');
  const order = done.focus?.reference as string;
  const midlandsOrder = await midlands.deps.store.read<ServiceRequest>('ServiceRequest', order.split('/')[1] as string);
  const endpoint = await registerEndpoint(midlands.deps, RIS, exampleEndpoint());
  const study = await recordImagingStudy(
    midlands.deps,
    RIS,
    exampleImagingStudy({
      basedOn: [{ reference: order }],
      subject: midlandsOrder.subject as { reference: string },
      endpoint: [{ reference: `Endpoint/${endpoint.resource.id}` }],
    }),
    'case-done',
  );
  const report = await issueReport(
    midlands.deps,
    RIS,
    exampleDiagnosticReport({
      basedOn: [{ reference: order }],
      subject: midlandsOrder.subject,
      imagingStudy: [{ reference: `ImagingStudy/${study.resource.id}` }],
    }),
    'case-done',
  );
  await move(started, 'completed', {
    output: [{ type: { text: 'report' }, valueReference: { reference: `DiagnosticReport/${report.resource.id}` } }],
  });
  expect(await deliverDue(midlands.deps)).toMatchObject({ failed: 0, retried: 0 });

  northTask = await north.deps.store.read<Task>('Task', placed.task.id);
  expect(northTask.status).toBe('completed');
  expect(northTask.output?.[0]?.valueReference?.reference).toMatch(/^DiagnosticReport\//);
  openOrder = (await searchAll<ServiceRequest>(north.deps.store, 'ServiceRequest')).find(
    (o) => o.identifier?.[0]?.value === 'N81001-000124',
  ) as WithId<ServiceRequest>;
});

let counter = 0;
function message(
  event: MessageEventDefinition,
  from: string,
  to: string,
  focus: Resource,
  resources: Resource[] = [],
): Bundle {
  return buildMessage({
    event,
    timestamp: '2026-11-23T09:00:00Z',
    sourceService: from,
    destinationService: to,
    focus,
    resources,
    identifierOf: () => undefined,
  });
}

const routingHeaders = (target: string) => ({
  [MESSAGE_HEADERS.target]: target,
  [MESSAGE_HEADERS.requestId]: `req-forged-${++counter}`,
  [MESSAGE_HEADERS.correlationId]: 'case-forged',
});

/** Sends a message through the hub with a gateway's own credentials. */
async function throughHub(bundle: Bundle, client: string, target: string): Promise<Response> {
  return hub.app.request('/fhir/$process-message', {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${await world.tokenFor(client)}`,
      'Content-Type': 'application/fhir+json',
      ...routingHeaders(target),
    },
    body: JSON.stringify(bundle),
  });
}

/** Sends a message straight to a gateway's `$process-message` with the hub's own token, as if the hub let it through. */
async function straightTo(region: ConnectedRegion, bundle: Bundle): Promise<Response> {
  return region.app.request(`${region.deps.region.fhirBaseUrl}/$process-message`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${await world.hubToken()}`,
      'Content-Type': 'application/fhir+json',
      ...routingHeaders(region.deps.region.serviceId),
    },
    body: JSON.stringify(bundle),
  });
}

const audits = async () => (await hub.store.search<AuditEvent>('AuditEvent', { _count: '1000' })).resources;

/** What a region holds: how many of each routed type, and every resource's version. */
async function snapshot(region: ConnectedRegion) {
  const state: Record<string, string | undefined> = {};
  for (const type of ['Patient', 'ServiceRequest', 'Task', 'DiagnosticReport', 'ImagingStudy', 'Bundle'] as const) {
    for (const r of await searchAll(region.deps.store, type)) state[`${type}/${r.id}`] = r.meta?.versionId;
  }
  return state;
}

async function refusal(res: Response) {
  const outcome = (await res.json()) as OperationOutcome;
  return { status: res.status, outcome, expressions: (outcome.issue ?? []).flatMap((i) => i.expression ?? []) };
}

/**
 * Expects the hub to refuse with 403 at `expression`, audit the refusal, and forward nothing: the
 * target region saw no call and holds exactly what it held.
 */
async function expectRefusedAtHub(
  bundle: Bundle,
  target: ConnectedRegion,
  expression: string,
  sender = 'gateway-south',
) {
  const before = await snapshot(target);
  const delivered = world.deliveriesTo(target.deps.region.regionId).length;
  const audited = (await audits()).length;
  const res = await throughHub(bundle, sender, target.deps.region.serviceId);
  const { status, outcome, expressions } = await refusal(res);
  expect(status, JSON.stringify(outcome)).toBe(403);
  expect(outcome.issue?.[0]?.code).toBe('forbidden');
  expect(expressions).toContain(expression);
  expect(world.deliveriesTo(target.deps.region.regionId)).toHaveLength(delivered);
  expect(await snapshot(target)).toEqual(before);
  const events = await audits();
  expect(events).toHaveLength(audited + 1);
  const event = events.at(-1) as AuditEvent;
  expect(event.outcome).toBe('4');
  expect(event.agent[0]).toMatchObject({ altId: sender, requestor: true });
  expect(event.outcomeDesc).toContain(outcome.issue?.[0]?.details?.text);
}

/** Expects the receiver itself to refuse with 403 at `expression` and write nothing. */
async function expectRefusedAtReceiver(bundle: Bundle, target: ConnectedRegion, expression: string) {
  const before = await snapshot(target);
  const { status, outcome, expressions } = await refusal(await straightTo(target, bundle));
  expect(status, JSON.stringify(outcome)).toBe(403);
  expect(outcome.issue?.[0]?.code).toBe('forbidden');
  expect(expressions).toContain(expression);
  expect(await snapshot(target)).toEqual(before);
}

const odsRef = (value: string) => ({ type: 'Organization' as const, identifier: { system: ODS_SYSTEM, value } });

describe('a task-update from a region that is not the Task partner', () => {
  /** The south "updates" the north's completed Task (partner: the midlands): new businessStatus, output wiped. */
  const forgedUpdate = (owner?: string) => {
    const { output: _output, ...rest } = northTask;
    return message(TASK_UPDATE, 'imaging-south', 'imaging-north', {
      ...rest,
      businessStatus: { text: 'Cancelled by the radiology department' },
      ...(owner ? { owner: odsRef(owner) } : {}),
    } as Task);
  };

  it('is refused at the hub: the south serves neither the owner (RM1) nor the requester', async () => {
    await expectRefusedAtHub(forgedUpdate(), north, 'Bundle.entry[1].resource.owner');
  });

  it('is refused by the north itself when sent straight to it: its copy is shared with the midlands', async () => {
    await expectRefusedAtReceiver(forgedUpdate(), north, 'Bundle.entry[1].resource.identifier');
    const task = await north.deps.store.read<Task>('Task', northTask.id);
    expect(task.businessStatus).toEqual(northTask.businessStatus);
    expect(task.output).toEqual(northTask.output);
  });

  it('claiming a south owner gets past the hub, but the north refuses it, and the hub relays that 403', async () => {
    const before = await snapshot(north);
    const res = await throughHub(forgedUpdate('RS1'), 'gateway-south', 'imaging-north');
    const { status, expressions } = await refusal(res);
    expect(status).toBe(403);
    expect(expressions).toContain('Bundle.entry[1].resource.identifier');
    expect(await snapshot(north)).toEqual(before);
    expect((await audits()).at(-1)?.outcome).toBe('4');
  });
});

describe('a report-issued for an order the sender never performed', () => {
  /** A "report" for the north GP's open order (performed by RM1), from the south. */
  const forgedReport = (performer: string) =>
    message(
      REPORT_ISSUED,
      'imaging-south',
      'imaging-north',
      exampleDiagnosticReport({
        identifier: [{ system: SYSTEMS.report, value: `${performer}-FORGED-1` }],
        basedOn: [{ type: 'ServiceRequest', identifier: openOrder.identifier?.[0] }],
        performer: [odsRef(performer)],
        conclusion: 'No abnormality detected.',
      }),
    );

  it('is refused at the hub when it names a performer the south does not serve', async () => {
    await expectRefusedAtHub(forgedReport('RM1'), north, 'Bundle.entry[1].resource.performer[0]');
  });

  it('is refused by the north itself: the order is RM1’s, and the GP never sees the report', async () => {
    await expectRefusedAtReceiver(forgedReport('RM1'), north, 'Bundle.entry[1].resource.basedOn[0]');
    await expectRefusedAtReceiver(forgedReport('RS1'), north, 'Bundle.entry[1].resource.basedOn[0]');
    const reports = await searchAll<DiagnosticReport>(north.deps.store, 'DiagnosticReport');
    expect(reports.map((r) => r.identifier?.[0]?.value)).not.toContain('RS1-FORGED-1');
    expect(reports.map((r) => r.identifier?.[0]?.value)).not.toContain('RM1-FORGED-1');
  });

  it('naming a south performer gets past the hub, but the north refuses it', async () => {
    const before = await snapshot(north);
    const res = await throughHub(forgedReport('RS1'), 'gateway-south', 'imaging-north');
    expect((await refusal(res)).status).toBe(403);
    expect(await snapshot(north)).toEqual(before);
  });
});

describe('an order-request naming a requester the sender does not serve', () => {
  /** An "order" from the south to the midlands, placed in the name of a north practice. */
  const forgedOrder = () => {
    const patient = examplePatient({
      identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: testNhsNumber(5) }],
    });
    const placer = { system: SYSTEMS.placerOrder, value: 'N81001-FORGED-1' };
    return message(
      ORDER_REQUEST,
      'imaging-south',
      'imaging-midlands',
      { ...exampleServiceRequest({ identifier: [placer] }), id: 'order' } as ServiceRequest,
      [
        { ...patient, id: 'patient' } as Patient,
        {
          ...exampleFulfilmentTask({ identifier: [{ system: SYSTEMS.task, value: 'N81001-FORGED-1-fulfil' }] }),
          id: 'task',
          focus: { reference: 'ServiceRequest/order' },
        } as Task,
      ],
    );
  };

  it('is refused at the hub: N81001 is served by the north', async () => {
    await expectRefusedAtHub(forgedOrder(), midlands, 'Bundle.entry[1].resource.requester');
  });

  it('is refused by the midlands itself: RM1 never gets it', async () => {
    await expectRefusedAtReceiver(forgedOrder(), midlands, 'Bundle.entry[1].resource.requester');
    const orders = await searchAll<ServiceRequest>(midlands.deps.store, 'ServiceRequest');
    expect(orders.map((o) => o.identifier?.[0]?.value)).not.toContain('N81001-FORGED-1');
  });
});

describe("a report-issued carrying a second report identifier, in another performer's namespace", () => {
  /**
   * The midlands (RM1's region, the open order's performer) sends a real report that also carries RS1's
   * next report number: only the first was checked, and RS1's own report under it would later be matched
   * to this one and never stored.
   */
  const planted = () =>
    message(
      REPORT_ISSUED,
      'imaging-midlands',
      'imaging-north',
      exampleDiagnosticReport(
        {
          identifier: [
            { system: SYSTEMS.report, value: 'RM1-PLANT-1' },
            { system: SYSTEMS.report, value: 'RS1-REP-000001' },
          ],
          basedOn: [{ type: 'ServiceRequest', identifier: openOrder.identifier?.[0] }],
        },
        'NONE',
      ),
    );
  const stored = async () =>
    (await searchAll<DiagnosticReport>(north.deps.store, 'DiagnosticReport')).flatMap((r) =>
      (r.identifier ?? []).map((i) => i.value),
    );

  it('is refused at the hub, at the second identifier', async () => {
    await expectRefusedAtHub(planted(), north, 'Bundle.entry[1].resource.identifier[1]', 'gateway-midlands');
  });

  it('is refused by the north itself, which stores nothing under either identifier', async () => {
    await expectRefusedAtReceiver(planted(), north, 'Bundle.entry[1].resource.identifier[1]');
    expect(await stored()).not.toContain('RS1-REP-000001');
    expect(await stored()).not.toContain('RM1-PLANT-1');
  });
});

describe("a routed study whose Study Instance UID is another sender's study here", () => {
  /** A north order performed by RS1 (the south), placed and delivered: the south is its real performer. */
  const placer = { system: SYSTEMS.placerOrder, value: 'N81001-000300' };
  beforeAll(async () => {
    await placeOrder(
      north.deps,
      GP,
      exampleServiceRequest({ identifier: [placer], performer: [odsRef('RS1')] }),
      'case-south-performs',
    );
    expect(await deliverDue(north.deps)).toMatchObject({ failed: 0 });
  });

  /** The south's report for that order, with a study under `uid` and the south's own endpoint. */
  const southReport = (
    uid: string,
    report = 'RS1-REP-000300',
    endpointRef: Reference<Endpoint> = { reference: 'Endpoint/rs1-endpoint' },
  ) => {
    const order = { type: 'ServiceRequest' as const, identifier: placer };
    const study = exampleImagingStudy({
      identifier: [
        { system: DICOM_UID_SYSTEM, value: uid },
        { system: SYSTEMS.accession, value: 'RS1-ACC-000300' },
      ],
      basedOn: [order],
      endpoint: [endpointRef],
    });
    const endpoint = exampleEndpoint({
      managingOrganization: odsRef('RS1'),
      identifier: [{ system: 'urn:ietf:rfc:3986', value: 'https://pacs.rs1.example/dicomweb' }],
      address: 'https://pacs.rs1.example/dicomweb',
    });
    return message(
      REPORT_ISSUED,
      'imaging-south',
      'imaging-north',
      exampleDiagnosticReport(
        {
          identifier: [{ system: SYSTEMS.report, value: report }],
          basedOn: [order],
          performer: [odsRef('RS1')],
          imagingStudy: [{ reference: 'ImagingStudy/rs1-study' }],
        },
        'NONE',
      ),
      [
        { ...study, id: 'rs1-study' },
        { ...endpoint, id: 'rs1-endpoint' },
      ],
    );
  };

  it("is refused by the north: the UID is the midlands' study there, which the south's report would cite", async () => {
    const midlandsStudy = (await searchAll<ImagingStudy>(north.deps.store, 'ImagingStudy'))[0];
    const uid = midlandsStudy?.identifier?.find((i) => i.system === DICOM_UID_SYSTEM)?.value as string;
    expect(uid).toBeDefined();
    const before = await snapshot(north);
    const { status, outcome, expressions } = await refusal(
      await throughHub(southReport(uid), 'gateway-south', 'imaging-north'),
    );
    expect(status, JSON.stringify(outcome)).toBe(403);
    expect(isMessageRefusal(outcome)).toBe(true);
    expect(expressions).toEqual(['Bundle.entry[2].resource.identifier[0]']);
    expect(await snapshot(north)).toEqual(before);
  });

  it("is refused by the north when its study names, by identifier, the north's own provider's endpoint", async () => {
    const identifier = { system: 'urn:ietf:rfc:3986', value: 'https://pacs.rn1.example/dicomweb' };
    await registerEndpoint(
      north.deps,
      RN1_RIS,
      exampleEndpoint({ id: undefined, managingOrganization: odsRef('RN1'), identifier: [identifier] }),
    );
    const before = await snapshot(north);
    const named = southReport('urn:oid:1.2.826.0.1.3680043.301', 'RS1-REP-000301', { type: 'Endpoint', identifier });
    const { status, outcome, expressions } = await refusal(await throughHub(named, 'gateway-south', 'imaging-north'));
    expect(status, JSON.stringify(outcome)).toBe(403);
    expect(isMessageRefusal(outcome)).toBe(true);
    expect(expressions).toEqual(['Bundle.entry[2].resource.endpoint[0]']);
    expect(await snapshot(north)).toEqual(before);
  });

  it("takes the south's own study, and the same again under a new request id matches the south's copy", async () => {
    for (let i = 0; i < 2; i++) {
      const res = await throughHub(southReport('urn:oid:1.2.826.0.1.3680043.300'), 'gateway-south', 'imaging-north');
      expect(res.status, await res.clone().text()).toBe(200);
    }
    const studies = await searchAll<ImagingStudy>(north.deps.store, 'ImagingStudy', {
      identifier: `${DICOM_UID_SYSTEM}|urn:oid:1.2.826.0.1.3680043.300`,
    });
    expect(studies).toHaveLength(1);
  });
});

describe("a task-update cancelling a Task the performer has started, from the requester's region", () => {
  it('gets past the hub, which holds no case, and the midlands refuses it by its stored Task', async () => {
    const open = (await fulfilment(midlands)).find((t) => t.status === 'accepted') as WithId<Task>;
    const started = await updateTask(
      midlands.deps,
      RIS,
      open.id,
      { ...open, status: 'in-progress' },
      open.meta?.versionId,
      'case-open',
    );
    const northCopy = (await fulfilment(north)).find(
      (t) => t.identifier?.[0]?.value === open.identifier?.[0]?.value,
    ) as WithId<Task>;
    // The requester's region claims nothing but the cancel; its own copy still says accepted.
    const cancel = message(TASK_UPDATE, 'imaging-north', 'imaging-midlands', {
      ...northCopy,
      status: 'cancelled',
      statusReason: { text: 'No longer needed' },
    });
    const before = await snapshot(midlands);
    const { status, outcome, expressions } = await refusal(
      await throughHub(cancel, 'gateway-north', 'imaging-midlands'),
    );
    expect(status, JSON.stringify(outcome)).toBe(403);
    expect(isMessageRefusal(outcome)).toBe(true);
    expect(expressions).toEqual(['Bundle.entry[1].resource.status']);
    expect(await snapshot(midlands)).toEqual(before);
    expect((await midlands.deps.store.read<Task>('Task', started.id)).status).toBe('in-progress');
  });
});

describe("a task-update from the performer's region naming another order's report as the result", () => {
  it("gets past the hub, and the north refuses it: the report it holds under that identifier is the other order's", async () => {
    const openTask = (await fulfilment(north)).find(
      (t) => t.focus?.reference === `ServiceRequest/${openOrder.id}`,
    ) as WithId<Task>;
    const doneReport = await north.deps.store.read<DiagnosticReport>(
      'DiagnosticReport',
      northTask.output?.[0]?.valueReference?.reference?.split('/')[1] as string,
    );
    const reportIdentifier = doneReport.identifier?.find((i) => i.system === SYSTEMS.report);
    expect(reportIdentifier?.value).toBeDefined();
    // The midlands is the open order's partner: only what it names as the result is wrong.
    const completed = message(TASK_UPDATE, 'imaging-midlands', 'imaging-north', {
      ...openTask,
      status: 'completed',
      output: [
        { type: { text: 'report' }, valueReference: { type: 'DiagnosticReport', identifier: reportIdentifier } },
      ],
    });
    const before = await snapshot(north);
    const { status, outcome, expressions } = await refusal(
      await throughHub(completed, 'gateway-midlands', 'imaging-north'),
    );
    expect(status, JSON.stringify(outcome)).toBe(403);
    expect(isMessageRefusal(outcome)).toBe(true);
    expect(expressions).toEqual(['Bundle.entry[1].resource.output[0].valueReference']);
    expect(await snapshot(north)).toEqual(before);
    const stored = await north.deps.store.read<Task>('Task', openTask.id);
    expect([stored.status, stored.output]).toEqual([openTask.status, undefined]);
  });
});

describe("a report-issued from the performer's region citing another order's study held by the receiver", () => {
  it("gets past the hub, and the north refuses it at the citation: the study it holds under that UID is the other order's", async () => {
    const [doneStudy] = await searchAll<ImagingStudy>(north.deps.store, 'ImagingStudy');
    const uid = doneStudy?.identifier?.find((i) => i.system === DICOM_UID_SYSTEM);
    expect(uid?.value).toBeDefined();
    // The open order's report, from the midlands (its performer's region), carrying no study: it names the
    // done case's study by its UID alone.
    const forged = message(
      REPORT_ISSUED,
      'imaging-midlands',
      'imaging-north',
      exampleDiagnosticReport(
        {
          identifier: [{ system: SYSTEMS.report, value: 'RM1-REP-OPEN' }],
          basedOn: [{ type: 'ServiceRequest', identifier: { system: SYSTEMS.placerOrder, value: 'N81001-000124' } }],
          subject: patientReferenceByNhsNumber(examplePatient().identifier?.[0]?.value as string),
          performer: [odsRef('RM1')],
          imagingStudy: [{ type: 'ImagingStudy', identifier: uid }],
        },
        'NONE',
      ),
    );
    const before = await snapshot(north);
    const { status, outcome, expressions } = await refusal(
      await throughHub(forged, 'gateway-midlands', 'imaging-north'),
    );
    expect(status, JSON.stringify(outcome)).toBe(403);
    expect(isMessageRefusal(outcome)).toBe(true);
    expect(expressions).toEqual(['Bundle.entry[1].resource.imagingStudy[0]']);
    expect(await snapshot(north)).toEqual(before);
  });
});

describe('the same checks let the real pathway through', () => {
  it('an order from a south practice to RM1 is delivered to the midlands', async () => {
    const southGp = { clientId: 'gp-s81001', kind: 'referrer' as const, organisation: 'S81001', region: 'south' };
    const patient = examplePatient({
      identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: testNhsNumber(6) }],
    });
    await registerPatient(south.deps, southGp, patient);
    const placer = { system: SYSTEMS.placerOrder, value: 'S81001-000001' };
    await placeOrder(
      south.deps,
      southGp,
      exampleServiceRequest({
        identifier: [placer],
        requester: odsRef('S81001'),
        subject: { type: 'Patient', identifier: patient.identifier?.[0] },
      }),
      'case-south',
    );
    expect(await deliverDue(south.deps)).toMatchObject({ delivered: 1, failed: 0 });
    const orders = await searchAll<ServiceRequest>(midlands.deps.store, 'ServiceRequest');
    expect(orders.map((o) => o.identifier?.[0]?.value)).toContain('S81001-000001');
  });
});
