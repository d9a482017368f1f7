import type { Resource, Task } from '@medplum/fhirtypes';
import { ALERT_STEP_DISPLAY, odsReference, SYSTEMS } from '@imaging/fhir';
import type { StoreChange, WithId } from '@imaging/fhir';
import {
  exampleAcknowledgementTask,
  exampleDiagnosticReport,
  examplePatient,
  exampleServiceRequest,
} from '@imaging/fhir/examples';
import { describe, expect, it } from 'vitest';
import { GP, RIS, testRegions } from '../testing/regions.ts';
import type { NewAlert } from './alert-task.ts';
import { alertTask } from './alert-task.ts';
import { deliverDue } from './delivery.ts';
import { caseTrail, flowChangeOf, openAlerts, queueGauge } from './flow.ts';
import { placeOrder } from './orders.ts';
import { registerPatient } from './registrations.ts';
import { updateTask } from './tasks.ts';

const describeVersion = (r: WithId<Resource>) => {
  const code =
    r.resourceType === 'Task' || r.resourceType === 'AuditEvent'
      ? (r.resourceType === 'Task' ? r.code?.coding?.[0] : r.subtype?.[0])?.code
      : undefined;
  const status = 'status' in r ? ` ${String(r.status)}` : '';
  return `${r.resourceType}${code ? `(${code})` : ''} v${r.meta?.versionId}${status}`;
};

async function orderToMidlands(caseId = 'case-1', placer = 'N81001-000001-1') {
  const regions = testRegions();
  await registerPatient(regions.north, GP, examplePatient());
  const order = await placeOrder(
    regions.north,
    GP,
    exampleServiceRequest({ identifier: [{ system: SYSTEMS.placerOrder, value: placer }] }),
    caseId,
  );
  return { ...regions, order };
}

describe('the queue gauge', () => {
  it('counts the open deliveries and gives the oldest one’s queue time; none once delivered', async () => {
    const { north, midlands, hub, clock } = await orderToMidlands();
    expect(await queueGauge(midlands.store, midlands.region, clock.now())).toMatchObject({ depth: 0 });
    expect((await queueGauge(midlands.store, midlands.region, clock.now())).oldestQueuedAt).toBeUndefined();

    hub.down.add('imaging-midlands');
    expect(await deliverDue(north)).toMatchObject({ retried: 1 });
    const waiting = await queueGauge(north.store, north.region, clock.now());
    expect(waiting).toMatchObject({ type: 'queue', service: 'imaging-north', depth: 1 });
    expect(waiting.oldestQueuedAt).toBe(clock.now().toISOString());

    hub.down.clear();
    clock.advance(60_000);
    expect(await deliverDue(north)).toMatchObject({ delivered: 1 });
    expect(await queueGauge(north.store, north.region, clock.now())).toMatchObject({ depth: 0 });
  });
});

describe('what a stored change means on the feed', () => {
  it('a delivery as it is queued, tried and delivered; a fulfilment Task’s status; nothing else', async () => {
    const { north, midlands, hub } = await orderToMidlands();
    const changes: StoreChange[] = [];
    const record = (deps: typeof north) => {
      const store = deps.store;
      deps.store = {
        ...store,
        description: store.description,
        update: async (resource, options) => {
          const updated = await store.update(resource, options);
          changes.push({ action: 'update', resource: updated });
          return updated;
        },
      };
    };
    record(north);
    hub.down.add('imaging-midlands');
    await deliverDue(north);
    const events = changes.map((c) => flowChangeOf(c, north.region));
    // No claim: the outbox lease decides which replica sends, and the delivery is written once, settled.
    expect(events.map((e) => (e?.kind === 'delivery' ? `${e.event.state} ${e.event.attempts}` : e?.kind))).toEqual([
      'pending 1',
    ]);
    const pending = events[0];
    expect(pending?.kind === 'delivery' && pending.event).toMatchObject({
      type: 'delivery',
      service: 'imaging-north',
      correlationId: 'case-1',
      destination: 'imaging-midlands',
      kind: 'message',
    });
    // The feed says why it waits, without the next attempt's time (which the queue gauge covers).
    expect(pending?.kind === 'delivery' && pending.event.progress).toBe('attempt 1 failed: 503');

    const [task] = (await caseTrail(north.store, 'case-1')).filter(
      (r): r is WithId<Task> => r.resourceType === 'Task' && r.code?.coding?.[0]?.code === 'fulfil',
    );
    expect(flowChangeOf({ action: 'create', resource: task as WithId<Task> }, north.region)).toEqual({
      kind: 'task-status',
      event: {
        type: 'task-status',
        service: 'imaging-north',
        at: task?.meta?.lastUpdated,
        correlationId: 'case-1',
        status: 'requested',
        task: task?.identifier?.[0]?.value,
      },
    });
    const patient = (await midlands.store.search('Patient')).resources[0];
    expect(patient && flowChangeOf({ action: 'create', resource: patient }, midlands.region)).toBeUndefined();
    const ack = { ...exampleAcknowledgementTask(), id: 'ack' };
    expect(flowChangeOf({ action: 'create', resource: ack }, north.region)).toEqual({ kind: 'alerts-changed' });
  });
});

describe('open alerts', () => {
  it('none while the alert workflow has made no acknowledgement Task', async () => {
    const { north } = await orderToMidlands();
    expect(await openAlerts(north.store)).toEqual([]);
  });

  it('each open acknowledgement Task, with its category, due time and ladder step; not a closed one', async () => {
    const { north } = await orderToMidlands();
    const at = (iso: string) => new Date(iso);
    const raise = (identifier: string, overrides: Partial<NewAlert>) =>
      north.store.create<Task>(
        alertTask({
          kind: 'acknowledge-result',
          identifier,
          correlationId: 'case-1',
          category: 'CANCER',
          report: { reference: 'DiagnosticReport/r1' },
          order: { reference: 'ServiceRequest/o1' },
          owner: odsReference('N81001'),
          ownerOrganisation: 'N81001',
          performer: 'RM1',
          raisedAt: at('2026-11-23T09:00:00Z'),
          acknowledgementDueAt: at('2026-11-24T09:00:00Z'),
          state: 'raised',
          step: 'delegate',
          stepDueAt: at('2026-11-25T09:00:00Z'),
          recipients: [odsReference('N81001')],
          lastModified: at('2026-11-23T09:00:00Z'),
          ...overrides,
        }),
      );
    await raise('ack-late', { acknowledgementDueAt: at('2026-11-30T09:00:00Z') });
    await raise('ack-soon', {});
    // Acknowledged, its action awaited: due when its current step is.
    await raise('ack-acted', {
      state: 'acknowledged',
      step: 'requester',
      stepDueAt: at('2026-11-27T09:00:00Z'),
      acknowledgement: { at: at('2026-11-23T10:00:00Z'), by: odsReference('N81001') },
    });
    await raise('ack-done', { category: 'URGENT', state: 'closed', stepDueAt: undefined });
    // A Task with the code but not the layout of an alert is no alert.
    await north.store.create<Task>(exampleAcknowledgementTask({ identifier: [{ system: SYSTEMS.task, value: 'x' }] }));
    expect(await openAlerts(north.store)).toEqual([
      {
        task: 'ack-soon',
        status: 'requested',
        category: 'CANCER',
        dueAt: '2026-11-24T09:00:00.000Z',
        step: ALERT_STEP_DISPLAY.delegate,
        correlationId: 'case-1',
        since: '2026-11-23T09:00:00.000Z',
      },
      expect.objectContaining({ task: 'ack-acted', status: 'in-progress', dueAt: '2026-11-27T09:00:00.000Z' }),
      expect.objectContaining({ task: 'ack-late', dueAt: '2026-11-30T09:00:00.000Z' }),
    ]);
  });
});

describe('a case’s trail', () => {
  it('every version of the case’s order, Tasks, deliveries and report here, oldest first; no other case', async () => {
    const { north, midlands, clock } = await orderToMidlands();
    await placeOrder(
      north,
      GP,
      exampleServiceRequest({ identifier: [{ system: SYSTEMS.placerOrder, value: 'N81001-000001-2' }] }),
      'case-2',
    );
    clock.advance(1000);
    expect(await deliverDue(north)).toMatchObject({ delivered: 2 });
    const [copy] = (await caseTrail(midlands.store, 'case-1')).filter(
      (r): r is WithId<Task> => r.resourceType === 'Task' && r.code?.coding?.[0]?.code === 'fulfil',
    );
    await updateTask(midlands, RIS, copy?.id as string, { ...(copy as Task), status: 'accepted' }, '1', 'case-1');
    const order = (await caseTrail(midlands.store, 'case-1')).find((r) => r.resourceType === 'ServiceRequest');
    await midlands.store.create(exampleDiagnosticReport({ basedOn: [{ reference: `ServiceRequest/${order?.id}` }] }));

    const north1 = await caseTrail(north.store, 'case-1');
    const north1Versions = north1.map(describeVersion);
    expect(north1Versions.slice(0, 4)).toEqual([
      'ServiceRequest v1 active',
      'Task(fulfil) v1 requested',
      'AuditEvent(order-placed) v1',
      'Task(deliver-message) v1 requested',
    ]);
    // The delivery and the AuditEvent of its outcome are one transaction: in either order.
    expect(north1Versions.slice(4).sort()).toEqual(
      ['Task(deliver-message) v2 completed', 'AuditEvent(delivery-completed) v1'].sort(),
    );
    const midlands1 = await caseTrail(midlands.store, 'case-1');
    // The accepted Task and the delivery of its status update are one transaction: in either order.
    expect(midlands1.map(describeVersion).sort()).toEqual(
      [
        'ServiceRequest v1 active',
        'Task(fulfil) v1 requested',
        'Task(fulfil) v2 accepted',
        'Task(deliver-message) v1 requested',
        // The performer's region watches the order's turnaround (docs/clinical-safety.md, Turnaround).
        'Task(watch-turnaround) v1 in-progress',
        'DiagnosticReport v1 final',
        // Who changed what: the order's message from the north, the RIS's update.
        'AuditEvent(message-received) v1',
        'AuditEvent(task-updated) v1',
      ].sort(),
    );
    for (const trail of [north1, midlands1]) {
      const times = trail.map((r) => Date.parse(r.meta?.lastUpdated ?? ''));
      expect(times).toEqual([...times].sort((a, b) => a - b));
    }
    expect(north1.some((r) => JSON.stringify(r).includes('N81001-000001-2'))).toBe(false);
    expect(await caseTrail(north.store, 'case-unknown')).toEqual([]);
  });
});
