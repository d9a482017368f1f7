import type {
  Bundle,
  DiagnosticReport,
  Endpoint,
  ImagingStudy,
  Patient,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import { outcomeErrorOf } from '@imaging/fhir/testing';
import { NHS_NUMBER_SYSTEM, OutcomeError, searchAll, SYSTEMS, testNhsNumber, unavailable } from '@imaging/fhir';
import { REPORT_ISSUED } from '@imaging/messaging';
import type { WithId } from '@imaging/fhir';
import {
  exampleDiagnosticReport,
  exampleEndpoint,
  exampleImagingStudy,
  examplePatient,
  exampleServiceRequest,
} from '@imaging/fhir/examples';
import { describe, expect, it } from 'vitest';
import { queuedMessage } from '../testing/alerts.ts';
import { GP, HUB_CALLER, RIS, testRegions } from '../testing/regions.ts';
import { deliverDue } from './delivery.ts';
import { processMessage } from './inbound.ts';
import { hasAccess, peerOf } from './labels.ts';
import { placeOrder } from './orders.ts';
import type { GatewayDeps } from './ports.ts';
import { registerEndpoint, registerPatient } from './registrations.ts';
import { issueReport, recordImagingStudy } from './results.ts';
import { updateTask } from './tasks.ts';

const fulfilmentTasks = (deps: GatewayDeps) =>
  searchAll<Task>(deps.store, 'Task', { code: 'https://imaging-connect.example/fhir/CodeSystem/task-code|fulfil' });
const deliveries = (deps: GatewayDeps) =>
  searchAll<Task>(deps.store, 'Task', {
    code: 'https://imaging-connect.example/fhir/CodeSystem/task-code|deliver-message',
  });
const count = async (deps: GatewayDeps, type: 'ServiceRequest' | 'Patient' | 'DiagnosticReport' | 'ImagingStudy') =>
  (await searchAll(deps.store, type)).length;

/** North places an order for the midlands; returns the order and the midlands' copy of its Task. */
async function orderRoutedToMidlands(regions: ReturnType<typeof testRegions>) {
  const { north, midlands } = regions;
  await registerPatient(north, GP, examplePatient());
  const order = await placeOrder(north, GP, exampleServiceRequest(), 'case-1');
  expect(await deliverDue(north)).toMatchObject({ delivered: 1 });
  const [copy] = await fulfilmentTasks(midlands);
  return { order, copy: copy as WithId<Task> };
}

async function move(
  deps: GatewayDeps,
  task: WithId<Task>,
  status: Task['status'],
  extra: Partial<Task> = {},
): Promise<WithId<Task>> {
  return updateTask(deps, RIS, task.id, { ...task, status, ...extra }, task.meta?.versionId, 'case-1');
}

describe('an order placed in one region, performed and reported in another', () => {
  it('carries the order, every status change and the report across, and registers pointers', async () => {
    const regions = testRegions();
    const { north, midlands, hub } = regions;
    const { order, copy } = await orderRoutedToMidlands(regions);
    expect(order.routedTo).toBe('imaging-midlands');
    expect(order.task.status).toBe('requested');

    // The midlands holds its own copies, visible to both organisations, and knows where they came from.
    const midlandsOrder = (
      await searchAll<ServiceRequest>(midlands.store, 'ServiceRequest')
    )[0] as WithId<ServiceRequest>;
    expect(midlandsOrder.identifier).toEqual(order.serviceRequest.identifier);
    expect(hasAccess(midlandsOrder, 'RM1') && hasAccess(midlandsOrder, 'N81001')).toBe(true);
    expect(peerOf(copy)).toBe('imaging-north');
    expect(copy.focus?.reference).toBe(`ServiceRequest/${midlandsOrder.id}`);
    expect(hub.routed[0]?.correlationId).toBe('case-1');

    // The provider works the order; each change reaches the referrer's region.
    let task = await move(midlands, copy, 'accepted');
    task = await move(midlands, task, 'in-progress');
    expect(await deliverDue(midlands)).toMatchObject({ delivered: 2 });
    expect((await north.store.read<Task>('Task', order.task.id)).status).toBe('in-progress');

    // Images and report.
    const endpoint = await registerEndpoint(midlands, RIS, exampleEndpoint());
    const study = await recordImagingStudy(
      midlands,
      RIS,
      exampleImagingStudy({
        basedOn: [{ reference: `ServiceRequest/${midlandsOrder.id}` }],
        subject: { reference: midlandsOrder.subject?.reference as string },
        endpoint: [{ reference: `Endpoint/${endpoint.resource.id}` }],
      }),
      'case-1',
    );
    const report = await issueReport(
      midlands,
      RIS,
      exampleDiagnosticReport({
        basedOn: [{ reference: `ServiceRequest/${midlandsOrder.id}` }],
        subject: midlandsOrder.subject,
        imagingStudy: [{ reference: `ImagingStudy/${study.resource.id}` }],
      }),
      'case-1',
    );
    task = await move(midlands, task, 'completed', {
      output: [{ type: { text: 'report' }, valueReference: { reference: `DiagnosticReport/${report.resource.id}` } }],
    });
    expect(await deliverDue(midlands)).toMatchObject({ delivered: 4, failed: 0 });

    // The referrer's region has the report, tied to its own order, and the completed Task points at it.
    const [northReport] = await searchAll<DiagnosticReport>(north.store, 'DiagnosticReport');
    expect(northReport?.basedOn?.[0]?.reference).toBe(`ServiceRequest/${order.serviceRequest.id}`);
    expect(hasAccess(northReport as DiagnosticReport, 'N81001')).toBe(true);
    const northTask = await north.store.read<Task>('Task', order.task.id);
    expect(northTask.status).toBe('completed');
    expect(northTask.output?.[0]?.valueReference?.reference).toBe(`DiagnosticReport/${northReport?.id}`);
    const [northStudy] = await searchAll<ImagingStudy>(north.store, 'ImagingStudy');
    expect(northStudy?.endpoint?.[0]?.reference).toMatch(/^Endpoint\//);
    expect((await searchAll<Endpoint>(north.store, 'Endpoint')).length).toBe(1);

    // The locator holds pointers to the midlands' study and report, by NHS number.
    expect(hub.pointers.map((p) => p.content?.[0]?.attachment?.url).sort()).toEqual(
      [
        `http://127.0.0.1:4102/fhir/DiagnosticReport/${report.resource.id}`,
        `http://127.0.0.1:4102/fhir/ImagingStudy/${study.resource.id}`,
      ].sort(),
    );
    expect(hub.pointers[0]?.subject?.identifier?.value).toBe(examplePatient().identifier?.[0]?.value);
  });

  it('keeps an order local when the performer is in the same region', async () => {
    const { north } = testRegions();
    await registerPatient(north, GP, examplePatient());
    const order = await placeOrder(
      north,
      GP,
      exampleServiceRequest({
        performer: [{ identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RN1' } }],
      }),
      'case-2',
    );
    expect(order.routedTo).toBeUndefined();
    expect(await deliveries(north)).toHaveLength(0);
  });
});

describe('delivery faults', () => {
  it('retries with backoff while the other region is down, then delivers exactly one copy', async () => {
    const regions = testRegions();
    const { north, midlands, hub, clock } = regions;
    await registerPatient(north, GP, examplePatient());
    await placeOrder(north, GP, exampleServiceRequest(), 'case-3');
    hub.down.add('imaging-midlands');

    expect(await deliverDue(north)).toMatchObject({ delivered: 0, retried: 1 });
    const [pending] = await deliveries(north);
    expect(pending?.status).toBe('requested');
    expect(pending?.businessStatus?.text).toContain('attempt 1 failed: 503');
    clock.advance(500); // backoff is 1 s after the first failure
    expect(await deliverDue(north)).toMatchObject({ waiting: 1 });
    clock.advance(600);
    expect(await deliverDue(north)).toMatchObject({ retried: 1 });
    expect((await deliveries(north))[0]?.businessStatus?.text).toContain('attempt 2 failed');

    hub.down.delete('imaging-midlands');
    clock.advance(2000);
    expect(await deliverDue(north)).toMatchObject({ delivered: 1 });
    expect(await count(midlands, 'ServiceRequest')).toBe(1);
    expect(await fulfilmentTasks(midlands)).toHaveLength(1);
    expect(await deliverDue(north)).toMatchObject({ delivered: 0, retried: 0, waiting: 0 });
  });

  it('treats a replayed delivery as a duplicate and stores nothing new', async () => {
    const regions = testRegions();
    const { north, midlands } = regions;
    await orderRoutedToMidlands(regions);
    const [delivery] = await deliveries(north);
    const message = await north.store.read<Bundle>('Bundle', delivery?.focus?.reference?.split('/')[1] as string);
    const requestId = delivery?.identifier?.[0]?.value as string;
    const replay = await processMessage(midlands, HUB_CALLER, message, requestId);
    expect(replay.duplicate).toBe(true);
    // Even under a new request id, conditional creates keep one copy of everything.
    const resend = await processMessage(midlands, HUB_CALLER, message, 'req-another-id');
    expect(resend.duplicate).toBe(false);
    expect(await count(midlands, 'ServiceRequest')).toBe(1);
    expect(await count(midlands, 'Patient')).toBe(1);
    expect(await fulfilmentTasks(midlands)).toHaveLength(1);
  });

  it('takes over a delivery whose replica died after claiming it, once the claim lapses', async () => {
    const regions = testRegions();
    const { north, midlands, clock } = regions;
    await registerPatient(north, GP, examplePatient());
    await placeOrder(north, GP, exampleServiceRequest(), 'case-4');
    const [pending] = await deliveries(north);
    // Replica 1, of the version before the outbox lease, claims the delivery and dies before sending it.
    await north.store.update(
      { ...(pending as WithId<Task>), status: 'in-progress', executionPeriod: { start: clock.now().toISOString() } },
      { ifMatch: pending?.meta?.versionId },
    );
    const replica2 = regions.open('north', north.store);
    expect(await deliverDue(replica2)).toMatchObject({ delivered: 0, waiting: 1 });
    clock.advance(north.delivery.leaseMs);
    expect(await deliverDue(replica2)).toMatchObject({ delivered: 1 });
    expect(await count(midlands, 'ServiceRequest')).toBe(1);
  });

  it('never lets a later message to a region overtake an earlier one', async () => {
    const regions = testRegions();
    const { north, midlands, hub, clock } = regions;
    const { copy } = await orderRoutedToMidlands(regions);
    await move(midlands, copy, 'rejected', { statusReason: { text: 'No CT capacity' } });
    hub.down.add('imaging-north');
    expect(await deliverDue(midlands)).toMatchObject({ retried: 1 });
    // Meanwhile a second order is queued in the midlands for the north (none here): nothing is lost,
    // and the queued update goes out first once the north is back.
    hub.down.delete('imaging-north');
    clock.advance(1000);
    expect(await deliverDue(midlands)).toMatchObject({ delivered: 1 });
    const [northTask] = await fulfilmentTasks(north);
    expect(northTask?.status).toBe('rejected');
    expect(northTask?.statusReason?.text).toBe('No CT capacity');
  });
});

describe('placing an order: bad input writes nothing', () => {
  async function north() {
    const regions = testRegions();
    await registerPatient(regions.north, GP, examplePatient());
    return regions.north;
  }
  async function expectNothingWritten(deps: GatewayDeps) {
    expect(await count(deps, 'ServiceRequest')).toBe(0);
    expect(await searchAll(deps.store, 'Task')).toHaveLength(0);
  }

  it.each([
    ['a provider placing an order', RIS, exampleServiceRequest(), 403],
    ['a referrer ordering for another practice', { ...GP, organisation: 'M81001' }, exampleServiceRequest(), 403],
    [
      'an unknown performer ODS code',
      GP,
      exampleServiceRequest({
        performer: [{ identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'ZZZ99' } }],
      }),
      422,
    ],
    [
      'a performer without an ODS identifier',
      GP,
      exampleServiceRequest({ performer: [{ display: 'Somewhere' }] }),
      422,
    ],
    ['no placer order number', GP, exampleServiceRequest({ identifier: [] }), 422],
    [
      'a placer order number outside the placer namespace',
      GP,
      exampleServiceRequest({ identifier: [{ system: SYSTEMS.placerOrder, value: 'RM1-000001' }] }),
      422,
    ],
    ['a patient this region does not hold', GP, exampleServiceRequest({ subject: { reference: 'Patient/nope' } }), 422],
    [
      'an unknown procedure code',
      GP,
      exampleServiceRequest({ code: { coding: [{ system: 'http://snomed.info/sct', code: '999999999' }] } }),
      422,
    ],
  ])('rejects %s', async (_name, caller, order, status) => {
    const deps = await north();
    expect((await outcomeErrorOf(placeOrder(deps, caller, order as ServiceRequest, 'c'))).status).toBe(status);
    await expectNothingWritten(deps);
  });

  it('answers 503 and writes nothing when the directory cannot be reached', async () => {
    const deps = await north();
    deps.hub.findService = async () => {
      throw new OutcomeError({
        resourceType: 'OperationOutcome',
        id: 'unavailable',
        issue: [{ severity: 'error', code: 'transient', details: { text: 'hub down' } }],
      });
    };
    expect((await outcomeErrorOf(placeOrder(deps, GP, exampleServiceRequest(), 'c'))).status).toBe(503);
    await expectNothingWritten(deps);
  });

  it('places the same order once, however often it is sent', async () => {
    const deps = await north();
    const first = await placeOrder(deps, GP, exampleServiceRequest(), 'c');
    const again = await placeOrder(deps, GP, exampleServiceRequest(), 'c');
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.serviceRequest.id).toBe(first.serviceRequest.id);
    expect(await fulfilmentTasks(deps)).toHaveLength(1);
    expect(await deliveries(deps)).toHaveLength(1);
  });

  it('rejects a patient with an invalid NHS number', async () => {
    const { north } = testRegions();
    const err = await outcomeErrorOf(
      registerPatient(
        north,
        GP,
        examplePatient({ identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765918' }] }),
      ),
    );
    expect(err.status).toBe(422);
    expect(err.outcome.issue[0]?.expression?.[0]).toMatch(/^Patient\.identifier/);
    expect(await count(north, 'Patient')).toBe(0);
  });
});

describe('moving a Task on: bad input changes nothing', () => {
  async function midlandsTask() {
    const regions = testRegions();
    const { copy } = await orderRoutedToMidlands(regions);
    return { ...regions, copy };
  }

  it('needs If-Match (428) and the current version (412)', async () => {
    const { midlands, copy } = await midlandsTask();
    expect(
      (await outcomeErrorOf(updateTask(midlands, RIS, copy.id, { ...copy, status: 'accepted' }, undefined, 'c')))
        .status,
    ).toBe(428);
    await move(midlands, copy, 'accepted');
    expect((await outcomeErrorOf(move(midlands, copy, 'rejected'))).status).toBe(412);
    expect((await midlands.store.read<Task>('Task', copy.id)).status).toBe('accepted');
  });

  it.each([
    ['an illegal transition', RIS, (t: Task) => ({ ...t, status: 'completed' as const }), 422],
    [
      'a change to what was ordered',
      RIS,
      (t: Task) => ({ ...t, status: 'accepted' as const, priority: 'stat' as const }),
      422,
    ],
    [
      'the requester moving the work on',
      { ...GP, region: 'midlands' },
      (t: Task) => ({ ...t, status: 'accepted' as const }),
      403,
    ],
    ['another provider', { ...RIS, organisation: 'RN1' }, (t: Task) => ({ ...t, status: 'accepted' as const }), 404],
  ])('rejects %s', async (_name, caller, change, status) => {
    const { midlands, copy } = await midlandsTask();
    expect(
      (await outcomeErrorOf(updateTask(midlands, caller, copy.id, change(copy), copy.meta?.versionId, 'c'))).status,
    ).toBe(status);
    expect((await midlands.store.read<Task>('Task', copy.id)).meta?.versionId).toBe(copy.meta?.versionId);
  });

  it('will not complete a Task without its report', async () => {
    const { midlands, copy } = await midlandsTask();
    const started = await move(midlands, await move(midlands, copy, 'accepted'), 'in-progress');
    const err = await outcomeErrorOf(move(midlands, started, 'completed'));
    expect(err.status).toBe(422);
    expect(err.outcome.issue[0]?.expression).toEqual(['Task.output']);
  });

  it('answers a store that cannot read the report with its failure (503), not as a wrong report (422)', async () => {
    const { midlands, copy } = await midlandsTask();
    const started = await move(midlands, await move(midlands, copy, 'accepted'), 'in-progress');
    // The store answers the reference check, then fails: the completion check's read meets the failure.
    const storeDown = new OutcomeError(unavailable('The store is unavailable'), 503);
    let reportReads = 0;
    const failingReads: GatewayDeps = {
      ...midlands,
      store: new Proxy(midlands.store, {
        get: (store, key) =>
          key === 'read'
            ? (type: string, id: string) =>
                type === 'DiagnosticReport' && ++reportReads > 1
                  ? Promise.reject(storeDown)
                  : store.read(type as 'Task', id)
            : Reflect.get(store, key),
      }),
    };
    const output = [{ type: { text: 'report' }, valueReference: { reference: 'DiagnosticReport/some-report' } }];
    const err = await outcomeErrorOf(move(failingReads, started, 'completed', { output }));
    expect(err.status).toBe(503);
    expect(reportReads).toBe(2);
    expect((await midlands.store.read<Task>('Task', copy.id)).meta?.versionId).toBe(started.meta?.versionId);
  });

  it.each([
    ['an unknown report', 'DiagnosticReport/no-such-report', 'is not a resource you may read here'],
    ['a malformed report id', 'DiagnosticReport/not an id!', 'is not a reference to a resource in this region'],
  ])('will not complete a Task with %s as its output (422)', async (_name, reference, why) => {
    const { midlands, copy } = await midlandsTask();
    const started = await move(midlands, await move(midlands, copy, 'accepted'), 'in-progress');
    const output = [{ type: { text: 'report' }, valueReference: { reference } }];
    const err = await outcomeErrorOf(move(midlands, started, 'completed', { output }));
    expect(err.status).toBe(422);
    // One issue at the reference (the first found there): it names no report of this order.
    expect(err.outcome.issue.map((i) => i.expression)).toEqual([['Task.output[0].valueReference']]);
    expect(err.outcome.issue[0]?.diagnostics).toContain(reference);
    expect(err.outcome.issue[0]?.diagnostics).toContain(why);
    expect((await midlands.store.read<Task>('Task', copy.id)).meta?.versionId).toBe(started.meta?.versionId);
  });

  it('lets the requester cancel before work starts, and tells the performer', async () => {
    const regions = testRegions();
    const { north, midlands } = regions;
    const { order, copy } = await orderRoutedToMidlands(regions);
    const current = await north.store.read<Task>('Task', order.task.id);
    await updateTask(north, GP, current.id, { ...current, status: 'cancelled' }, current.meta?.versionId, 'case-1');
    expect(await deliverDue(north)).toMatchObject({ delivered: 1 });
    expect((await midlands.store.read<Task>('Task', copy.id)).status).toBe('cancelled');
  });
});

describe('recording results: bad input writes nothing', () => {
  it('rejects a study or report from someone other than the performer, or for an unknown order', async () => {
    const regions = testRegions();
    const { midlands } = regions;
    await orderRoutedToMidlands(regions);
    const [order] = await searchAll<ServiceRequest>(midlands.store, 'ServiceRequest');
    const basedOn = [{ reference: `ServiceRequest/${order?.id}` }];
    const rn1 = { ...RIS, organisation: 'RN1' };
    // Another provider may not read the order: refused as an unknown order would be, so not disclosed.
    const notPerformer = await outcomeErrorOf(
      recordImagingStudy(
        midlands,
        rn1,
        exampleImagingStudy({ basedOn, subject: { reference: order?.subject?.reference as string } }),
        'c',
      ),
    );
    expect(notPerformer.status).toBe(422);
    expect(notPerformer.outcome.issue.flatMap((i) => i.expression)).toContain('ImagingStudy.basedOn[0]');
    expect(
      (
        await outcomeErrorOf(
          issueReport(
            midlands,
            RIS,
            exampleDiagnosticReport({ basedOn: [{ reference: 'ServiceRequest/none' }], subject: order?.subject }),
            'c',
          ),
        )
      ).status,
    ).toBe(422);
    expect(
      (
        await outcomeErrorOf(
          issueReport(
            midlands,
            RIS,
            exampleDiagnosticReport({ basedOn, subject: { reference: 'Patient/other' } }),
            'c',
          ),
        )
      ).status,
    ).toBe(422);
    expect(
      (
        await outcomeErrorOf(
          issueReport(
            midlands,
            RIS,
            exampleDiagnosticReport({
              basedOn,
              subject: order?.subject,
              identifier: [{ system: SYSTEMS.report, value: 'XX-1' }],
            }),
            'c',
          ),
        )
      ).status,
    ).toBe(422);
    expect(
      (
        await outcomeErrorOf(
          issueReport(midlands, RIS, exampleDiagnosticReport({ basedOn, subject: order?.subject, extension: [] }), 'c'),
        )
      ).status,
    ).toBe(422);
    expect(await count(midlands, 'ImagingStudy')).toBe(0);
    expect(await count(midlands, 'DiagnosticReport')).toBe(0);
  });
});

describe('receiving messages: bad input writes nothing', () => {
  it('accepts messages from the hub only, for this region only', async () => {
    const regions = testRegions();
    const { north, midlands } = regions;
    await registerPatient(north, GP, examplePatient());
    await placeOrder(north, GP, exampleServiceRequest(), 'c');
    const [delivery] = await deliveries(north);
    const message = await north.store.read<Bundle>('Bundle', delivery?.focus?.reference?.split('/')[1] as string);
    expect((await outcomeErrorOf(processMessage(midlands, RIS, message, 'req-1'))).status).toBe(403);
    expect((await outcomeErrorOf(processMessage(regions.south, HUB_CALLER, message, 'req-1'))).status).toBe(422);
    const broken = structuredClone(message);
    (broken.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as Patient).identifier = [
      { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '1234567890' },
    ];
    expect((await outcomeErrorOf(processMessage(midlands, HUB_CALLER, broken, 'req-2'))).status).toBe(422);
    expect(await count(midlands, 'ServiceRequest')).toBe(0);
    expect(await count(midlands, 'Patient')).toBe(0);
  });
  it("refuses a routed report or study whose patient is not the order's (422), and files nothing", async () => {
    const regions = testRegions();
    const { north, midlands } = regions;
    await orderRoutedToMidlands(regions);
    const [order] = await searchAll<ServiceRequest>(midlands.store, 'ServiceRequest');
    const basedOn = [{ reference: `ServiceRequest/${order?.id}` }];
    const endpoint = await registerEndpoint(midlands, RIS, exampleEndpoint());
    const study = await recordImagingStudy(
      midlands,
      RIS,
      exampleImagingStudy({
        basedOn,
        subject: { reference: order?.subject?.reference as string },
        endpoint: [{ reference: `Endpoint/${endpoint.resource.id}` }],
      }),
      'case-1',
    );
    await issueReport(
      midlands,
      RIS,
      exampleDiagnosticReport({
        basedOn,
        subject: order?.subject,
        imagingStudy: [{ reference: `ImagingStudy/${study.resource.id}` }],
      }),
      'case-1',
    );
    // Another patient the north holds: a report filed against them would sit in the wrong record.
    const other = testNhsNumber(7);
    await registerPatient(north, GP, examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: other }] }));
    const message = await queuedMessage(midlands, REPORT_ISSUED.code);
    for (const type of ['DiagnosticReport', 'ImagingStudy'] as const) {
      const forged = structuredClone(message);
      const index = forged.entry?.findIndex((e) => e.resource?.resourceType === type) ?? -1;
      (forged.entry?.[index]?.resource as DiagnosticReport | ImagingStudy).subject = {
        type: 'Patient',
        identifier: { system: NHS_NUMBER_SYSTEM, value: other },
      };
      const refused = await outcomeErrorOf(processMessage(north, HUB_CALLER, forged, `req-${type}`));
      expect(refused.status).toBe(422);
      expect(refused.outcome.issue.flatMap((i) => i.expression)).toContain(`Bundle.entry[${index}].resource.subject`);
    }
    expect(await count(north, 'DiagnosticReport')).toBe(0);
    expect(await count(north, 'ImagingStudy')).toBe(0);
    // The message as the performer sent it is filed, against the order's patient.
    await processMessage(north, HUB_CALLER, message, 'req-real');
    const [northOrder] = await searchAll<ServiceRequest>(north.store, 'ServiceRequest');
    const [report] = await searchAll<DiagnosticReport>(north.store, 'DiagnosticReport');
    expect(report?.subject?.reference).toBe(northOrder?.subject?.reference);
  });
});
