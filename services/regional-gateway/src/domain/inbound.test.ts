import type { AuditEvent, Bundle, DiagnosticReport, Patient, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import {
  CODE_SYSTEMS,
  isBuiltFromValidated,
  NHS_NUMBER_SYSTEM,
  odsReference,
  searchAll,
  SqliteStore,
  SYSTEMS,
  testNhsNumber,
  validatingStore,
} from '@imaging/fhir';
import type { Caller, FhirStore } from '@imaging/fhir';
import { outcomeErrorOf } from '@imaging/fhir/testing';
import { examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { REPORT_ISSUED, TASK_UPDATE } from '@imaging/messaging';
import { twoDeliveredOrders } from '../testing/pathway.ts';
import { describe, expect, it } from 'vitest';
import { queuedMessage } from '../testing/alerts.ts';
import { GP, HUB_CALLER, RIS, testRegions } from '../testing/regions.ts';
import { issueFinalReport } from '../testing/turnaround.ts';
import { deliverDue } from './delivery.ts';
import { processMessage } from './inbound.ts';
import { placeOrder } from './orders.ts';
import { registerPatient } from './registrations.ts';
import { updateTask } from './tasks.ts';

/** The store the services run on: what is marked as built from validated input is not validated again. */
const trustingStore = () =>
  validatingStore(new SqliteStore({ path: ':memory:' }), { trustBuilt: true, trusted: ['AuditEvent'] });

/** What a resource in a transaction is, for the assertions: its type, and a Task's code. */
const kindOf = (resource: Resource) =>
  resource.resourceType === 'Task'
    ? `Task ${(resource as Task).code?.coding?.find((c) => c.system === CODE_SYSTEMS.taskCode)?.code}`
    : resource.resourceType;

/** `store`, noting for each resource a transaction writes whether it was marked as built from validated input. */
function noting(store: FhirStore, marked: [string, boolean][]): FhirStore {
  return {
    ...store,
    description: store.description,
    async transaction(bundle: Bundle) {
      for (const entry of bundle.entry ?? [])
        if (entry.resource) marked.push([kindOf(entry.resource), isBuiltFromValidated(entry.resource)]);
      return store.transaction(bundle);
    },
  };
}

/** North places an order from RM1 in the midlands; returns the order-request message as north queued it. */
async function orderMessage(regions: ReturnType<typeof testRegions>): Promise<Bundle> {
  await registerPatient(regions.north, GP, examplePatient());
  await placeOrder(regions.north, GP, exampleServiceRequest(), 'case-1');
  return queuedMessage(regions.north, 'servicerequest-request');
}

const carried = <T extends Resource>(message: Bundle, type: T['resourceType']) => {
  const index = message.entry?.findIndex((e) => e.resource?.resourceType === type) ?? -1;
  return { index, resource: message.entry?.[index]?.resource as T };
};

const stored = async (store: FhirStore) => ({
  patients: (await searchAll<Patient>(store, 'Patient')).length,
  orders: (await searchAll<ServiceRequest>(store, 'ServiceRequest')).length,
  tasks: (await searchAll<Task>(store, 'Task')).length,
});

describe('receiving an order: the message is validated once, on arrival', () => {
  it('stores copies that a store validating every write accepts, each marked as built from validated input', async () => {
    const regions = testRegions();
    const marked: [string, boolean][] = [];
    // The tests' own kind of store: it validates every write, marked or not, so all the receiver builds is valid.
    regions.open('midlands', noting(validatingStore(new SqliteStore({ path: ':memory:' })), marked));
    await registerPatient(regions.north, GP, examplePatient());
    await placeOrder(regions.north, GP, exampleServiceRequest(), 'case-1');
    expect(await deliverDue(regions.north)).toMatchObject({ delivered: 1 });
    expect(marked.filter(([kind]) => kind !== 'AuditEvent')).toEqual([
      ['Patient', true],
      ['ServiceRequest', true],
      ['Task fulfil', true],
      ['Task watch-turnaround', true],
      ['Bundle', true],
    ]);

    // A second order for the same patient: the stored Patient, with its labels, is marked too.
    marked.length = 0;
    await placeOrder(
      regions.north,
      GP,
      exampleServiceRequest({ identifier: [{ system: SYSTEMS.placerOrder, value: 'N81001-000124' }] }),
      'case-2',
    );
    expect(await deliverDue(regions.north)).toMatchObject({ delivered: 1 });
    expect(marked.filter(([kind]) => kind !== 'AuditEvent').every(([, isMarked]) => isMarked)).toBe(true);
    expect(marked.map(([kind]) => kind)).toContain('Patient');
  });

  it('refuses a carried resource that breaks our profiles at its place in the message, on a store that trusts what is built', async () => {
    const regions = testRegions();
    const midlands = regions.open('midlands', trustingStore());
    const message = await orderMessage(regions);
    const patient = carried<Patient>(message, 'Patient');
    patient.resource.identifier = [{ system: NHS_NUMBER_SYSTEM, value: '9434765918' }]; // a wrong check digit
    const err = await outcomeErrorOf(processMessage(midlands, HUB_CALLER, message, 'req-bad-nhs'));
    expect(err.status).toBe(422);
    expect(err.outcome.issue.map((i) => i.expression?.[0])).toEqual([
      `Bundle.entry[${patient.index}].resource.identifier[0].value`,
    ]);
    expect(await stored(midlands.store)).toEqual({ patients: 0, orders: 0, tasks: 0 });
  });

  it("refuses an order whose Task carries the receiver's outbox lease identifier: no region can plant a lease", async () => {
    const regions = testRegions();
    const midlands = regions.open('midlands', trustingStore());
    const message = await orderMessage(regions);
    const task = carried<Task>(message, 'Task');
    task.resource.identifier = [
      ...(task.resource.identifier ?? []),
      { system: SYSTEMS.outboxLease, value: 'midlands' },
    ];
    task.resource.input = [
      { type: { text: 'holder' }, valueString: 'attacker' },
      { type: { text: 'expires' }, valueDateTime: '2999-01-01T00:00:00Z' },
    ];
    const err = await outcomeErrorOf(processMessage(midlands, HUB_CALLER, message, 'req-lease'));
    expect(err.status).toBe(422);
    expect(err.outcome.issue.map((i) => i.expression?.[0])).toEqual([
      `Bundle.entry[${task.index}].resource.identifier[1]`,
    ]);
    expect(await stored(midlands.store)).toEqual({ patients: 0, orders: 0, tasks: 0 });
  });

  it("refuses a carried resource that breaks its own type's invariant, or points at an entry of the wrong type", async () => {
    const regions = testRegions();
    const midlands = regions.open('midlands', trustingStore());
    const message = await orderMessage(regions);
    const task = carried<Task>(message, 'Task');
    const order = carried<ServiceRequest>(message, 'ServiceRequest');
    const patient = carried<Patient>(message, 'Patient');

    const late = structuredClone(message);
    (late.entry?.[task.index]?.resource as Task).lastModified = '2020-01-01T00:00:00Z'; // before authoredOn (inv-1)
    const err = await outcomeErrorOf(processMessage(midlands, HUB_CALLER, late, 'req-inv-1'));
    expect(err.status).toBe(400);
    expect(err.outcome.issue.map((i) => i.expression?.[0])).toEqual([`Bundle.entry[${task.index}].resource`]);

    const misdirected = structuredClone(message);
    (misdirected.entry?.[order.index]?.resource as ServiceRequest).reasonReference = [
      { reference: message.entry?.[patient.index]?.fullUrl as string },
    ];
    const wrongType = await outcomeErrorOf(processMessage(midlands, HUB_CALLER, misdirected, 'req-reason'));
    expect(wrongType.status).toBe(422);
    expect(wrongType.outcome.issue.map((i) => i.expression?.[0])).toEqual([
      `Bundle.entry[${order.index}].resource.reasonReference[0]`,
    ]);
    expect(await stored(midlands.store)).toEqual({ patients: 0, orders: 0, tasks: 0 });
  });

  it('validates what is built from content changed after the message was validated', async () => {
    const regions = testRegions();
    const message = await orderMessage(regions);
    const patient = carried<Patient>(message, 'Patient');
    const store = trustingStore();
    // The receiver looks for its own copy of the patient after validating the message: the content changes then.
    const midlands = regions.open('midlands', {
      ...store,
      description: store.description,
      async search(type, query) {
        if (type === 'Patient') patient.resource.identifier = [{ system: NHS_NUMBER_SYSTEM, value: '9434765918' }];
        return store.search(type, query);
      },
    });
    const err = await outcomeErrorOf(processMessage(midlands, HUB_CALLER, message, 'req-tampered'));
    expect(err.status).toBe(422);
    expect(err.outcome.issue.map((i) => i.details?.text)).toEqual([
      "'9434765918' is not a valid NHS number (10 digits passing Modulus 11)",
    ]);
    expect(await stored(midlands.store)).toEqual({ patients: 0, orders: 0, tasks: 0 });
  });
});

describe('receiving a message under a request id another region has used', () => {
  const southGp: Caller = { clientId: 'gp-s81001', kind: 'referrer', organisation: 'S81001', region: 'south' };

  /** The south orders from RM1 in the midlands too: a message from another sender. */
  async function southOrderMessage(regions: ReturnType<typeof testRegions>): Promise<Bundle> {
    const nhs = { system: NHS_NUMBER_SYSTEM, value: testNhsNumber(5) };
    await registerPatient(regions.south, southGp, examplePatient({ identifier: [nhs] }));
    const order = exampleServiceRequest({
      identifier: [{ system: SYSTEMS.placerOrder, value: 'S81001-000050' }],
      requester: odsReference('S81001'),
      subject: { type: 'Patient', identifier: nhs },
    });
    await placeOrder(regions.south, southGp, order, 'case-south');
    return queuedMessage(regions.south, 'servicerequest-request');
  }

  it("processes it: a region spending another's request id first never makes that region's message look done", async () => {
    const regions = testRegions();
    const midlands = regions.open('midlands', trustingStore());
    const fromSouth = await southOrderMessage(regions);
    const fromNorth = await orderMessage(regions);
    // Request ids are derived from business ids, so the south can compute the one the north will use.
    const spent = await processMessage(midlands, HUB_CALLER, fromSouth, 'req-the-norths');
    expect(spent.duplicate).toBe(false);

    const real = await processMessage(midlands, HUB_CALLER, fromNorth, 'req-the-norths');
    expect(real.duplicate).toBe(false);
    expect(await stored(midlands.store)).toEqual({ patients: 2, orders: 2, tasks: 4 });
    // Each sender's repeat is still recognised, and changes nothing.
    expect((await processMessage(midlands, HUB_CALLER, fromNorth, 'req-the-norths')).duplicate).toBe(true);
    expect((await processMessage(midlands, HUB_CALLER, fromSouth, 'req-the-norths')).duplicate).toBe(true);
    expect(await stored(midlands.store)).toEqual({ patients: 2, orders: 2, tasks: 4 });
    const received = await searchAll<AuditEvent>(midlands.store, 'AuditEvent', {
      subtype: `${CODE_SYSTEMS.auditSubtype}|message-received`,
    });
    // One record of each message received, each naming its sender.
    expect(received.map((a) => a.agent?.[0]?.name).sort()).toEqual(['imaging-north', 'imaging-south']);
  });
});

describe("a message's record in the case trail", () => {
  it('is filed under the case this region holds for what it changes, not the X-Correlation-ID it came with', async () => {
    const { regions, midlands, A, taskOf } = await twoDeliveredOrders();
    const { north } = regions;
    // Case A is case-0 and B case-1 (twoDeliveredOrders): each message about A names B's case.
    const task = taskOf(A);
    await updateTask(midlands, RIS, task.id, { ...task, status: 'accepted' }, task.meta?.versionId, 'case-0');
    await issueFinalReport(midlands, RIS, A, { category: 'NONE', issued: regions.clock.now() });
    for (const [event, requestId] of [
      [TASK_UPDATE.code, 'req-update'],
      [REPORT_ISSUED.code, 'req-report'],
    ] as const) {
      const message = await queuedMessage(midlands, event);
      expect((await processMessage(north, HUB_CALLER, message, requestId, 'case-1')).duplicate).toBe(false);
    }
    const received = await searchAll<AuditEvent>(north.store, 'AuditEvent', {
      subtype: `${CODE_SYSTEMS.auditSubtype}|message-received`,
    });
    const caseOf = (event: AuditEvent) =>
      event.entity?.find((e) => e.what?.identifier?.system === SYSTEMS.correlation)?.what?.identifier?.value;
    expect(
      received
        .map((e) => [e.entity?.flatMap((x) => x.detail ?? []).find((d) => d.type === 'event')?.valueString, caseOf(e)])
        .sort(),
    ).toEqual(
      [
        [`${REPORT_ISSUED.system}|${REPORT_ISSUED.code}`, 'case-0'],
        [`${TASK_UPDATE.system}|${TASK_UPDATE.code}`, 'case-0'],
      ].sort(),
    );
  });
});

describe('a report-issued based on several orders', () => {
  it('is refused (403) and nothing is written: a region cannot send what a RIS cannot write', async () => {
    const { regions, midlands, A: orderA } = await twoDeliveredOrders();
    const { north } = regions;
    await issueFinalReport(midlands, RIS, orderA, {
      category: 'CRITICAL',
      issued: regions.clock.now(),
    });
    const message = await queuedMessage(midlands, REPORT_ISSUED.code);
    const index = message.entry?.findIndex((e) => e.resource?.resourceType === 'DiagnosticReport') as number;
    const report = message.entry?.[index]?.resource as DiagnosticReport;
    report.basedOn = [
      ...(report.basedOn ?? []),
      { type: 'ServiceRequest', identifier: { system: SYSTEMS.placerOrder, value: 'N81001-000124' } },
    ];
    const before = await searchAll(north.store, 'Task');
    const err = await outcomeErrorOf(processMessage(north, HUB_CALLER, message, 'req-two-orders'));
    expect(err.status).toBe(403);
    expect(err.outcome.issue.flatMap((i) => i.expression ?? [])).toEqual([
      `Bundle.entry[${index}].resource.basedOn[1]`,
    ]);
    expect(await searchAll(north.store, 'DiagnosticReport')).toEqual([]);
    expect(await searchAll(north.store, 'Task')).toEqual(before);
  });
});
