import type { Bundle, ServiceRequest, Task } from '@medplum/fhirtypes';
import {
  NHS_NUMBER_SYSTEM,
  ODS_SYSTEM,
  OutcomeError,
  patientReferenceByNhsNumber,
  SqliteStore,
  SYSTEMS,
  searchAll,
  testNhsNumber,
  unavailable,
} from '@imaging/fhir';
import type { WithId, memoryLogger } from '@imaging/fhir';
import { examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { describe, expect, it } from 'vitest';
import { GP, testRegions } from '../testing/regions.ts';
import { deliverDue, markUnmarkedDeliveries } from './delivery.ts';
import { pendingDeliveriesQuery } from './outbox.ts';
import { placeOrder } from './orders.ts';
import { registerPatient } from './registrations.ts';
import { auditsOf } from '../testing/alerts.ts';

const deliveries = (store: ReturnType<typeof testRegions>['north']['store']) =>
  searchAll<Task>(store, 'Task', {
    code: 'https://imaging-connect.example/fhir/CodeSystem/task-code|deliver-message',
  });

describe('a malformed outbox Task', () => {
  it('is set aside as failed, with the reason, and does not hold up the other deliveries', async () => {
    const regions = testRegions();
    const { north, hub } = regions;
    await registerPatient(north, GP, examplePatient());
    await placeOrder(north, GP, exampleServiceRequest(), 'case-1');
    const [queued] = (await deliveries(north.store)) as WithId<Task>[];
    // A copy of a real delivery with its destination gone, as a hand edit might leave it.
    const { id: _, meta: __, ...copy } = queued as WithId<Task>;
    const { resource: broken } = await north.store.create<Task>({
      ...copy,
      identifier: [{ system: 'https://imaging-connect.example/fhir/Id/message-request', value: 'req-broken' }],
      input: copy.input?.filter((i) => i.type?.text !== 'destination'),
    });

    expect(await deliverDue(north)).toMatchObject({ delivered: 1, failed: 1, retried: 0 });
    expect(hub.routed).toHaveLength(1);
    const setAside = await north.store.read<Task>('Task', broken.id);
    expect(setAside.status).toBe('failed');
    expect(setAside.statusReason?.text).toMatch(/destination/);
    expect(setAside.businessStatus?.text).toMatch(/^set aside: .*destination/);
    const log = (north.logger as ReturnType<typeof memoryLogger>).entries;
    expect(log.filter((e) => e.level === 'error').map((e) => e.task)).toEqual([`Task/${broken.id}`]);
    // Recorded with it, as is the delivery that went out.
    const [setAsideAudit] = await auditsOf(north, 'delivery-set-aside');
    expect(setAsideAudit).toMatchObject({
      outcome: '4',
      entity: expect.arrayContaining([expect.objectContaining({ what: { reference: `Task/${broken.id}` } })]),
    });
    expect(setAsideAudit?.outcomeDesc).toMatch(/destination/);
    expect(await auditsOf(north, 'delivery-completed')).toHaveLength(1);

    expect(await deliverDue(north)).toMatchObject({ delivered: 0, failed: 0, retried: 0, waiting: 0 });
  });
});

/** Orders from the north for the midlands, one per patient number given (0 = the first test patient). */
async function ordersFor(regions: ReturnType<typeof testRegions>, patients: number[]): Promise<void> {
  const registered = new Set<number>();
  for (const [n, p] of patients.entries()) {
    const nhs = testNhsNumber(p);
    if (!registered.has(p)) {
      await registerPatient(
        regions.north,
        GP,
        examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhs }] }),
      );
      registered.add(p);
    }
    await placeOrder(
      regions.north,
      GP,
      exampleServiceRequest({
        identifier: [{ system: SYSTEMS.placerOrder, value: `N81001-queue-${n}` }],
        subject: patientReferenceByNhsNumber(nhs),
      }),
      `case-${n}`,
    );
  }
}

/** The placer order number an order message carries. */
function placerIn(message: Bundle): string | undefined {
  const order = message.entry?.find((e) => e.resource?.resourceType === 'ServiceRequest')?.resource as
    | ServiceRequest
    | undefined;
  return order?.identifier?.find((i) => i.system === SYSTEMS.placerOrder)?.value;
}

describe('the poll', () => {
  it('reads only open deliveries: a settled one, however many there are, no longer matches its index key', async () => {
    const regions = testRegions();
    await ordersFor(regions, [0, 1, 2]);
    const poll = () => searchAll<Task>(regions.north.store, 'Task', pendingDeliveriesQuery(100));
    expect(await poll()).toHaveLength(3);
    expect(await deliverDue(regions.north)).toMatchObject({ delivered: 3 });
    expect(await poll()).toHaveLength(0);
    expect(await deliveries(regions.north.store)).toHaveLength(3);
  });

  it('is one index lookup on the embedded store, never a walk over the stored Tasks', () => {
    const explained = new SqliteStore({ path: ':memory:' }).explainSearch('Task', pendingDeliveriesQuery(100));
    const plan = explained.candidates.flatMap((c) => [...c.plan, ...c.spans]);
    // `SCAN CONSTANT ROW` is SQLite evaluating a scalar subquery, not a walk over a table.
    expect(plan.filter((step) => step.startsWith('SCAN') && step !== 'SCAN CONSTANT ROW')).toEqual([]);
    expect(plan.some((step) => /idx_token.*code=\?/.test(step))).toBe(true);
  });

  it('finds open deliveries queued before it had its index key once they are marked, as a gateway does on start', async () => {
    const regions = testRegions();
    await ordersFor(regions, [0]);
    const [queued] = (await deliveries(regions.north.store)) as WithId<Task>[];
    const { businessStatus: _, ...older } = queued as WithId<Task>;
    await regions.north.store.update<Task>(older as WithId<Task>, { ifMatch: queued?.meta?.versionId });
    expect(await deliverDue(regions.north)).toMatchObject({ delivered: 0, waiting: 0 });

    expect(await markUnmarkedDeliveries(regions.north)).toBe(1);
    expect(await markUnmarkedDeliveries(regions.north)).toBe(0);
    expect(await deliverDue(regions.north)).toMatchObject({ delivered: 1 });
    expect(regions.hub.routed).toHaveLength(1);
  });
});

describe('deliveries in queues', () => {
  it('sends different patients’ deliveries side by side, up to the concurrency, and one patient’s in order', async () => {
    const regions = testRegions();
    await ordersFor(regions, [0, 0, 1, 2]);
    const route = regions.hub.routeMessage.bind(regions.hub);
    let inFlight = 0;
    let most = 0;
    const events: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    regions.hub.routeMessage = async (message, headers) => {
      const placer = placerIn(message);
      events.push(`start ${placer}`);
      most = Math.max(most, ++inFlight);
      if (inFlight === 3) release();
      await Promise.race([gate, new Promise((resolve) => setTimeout(resolve, 200))]);
      const answer = await route(message, headers);
      inFlight--;
      events.push(`end ${placer}`);
      return answer;
    };

    expect(await deliverDue(regions.north)).toMatchObject({ delivered: 4, waiting: 0 });
    expect(most).toBe(3);
    expect(events.indexOf('start N81001-queue-1')).toBeGreaterThan(events.indexOf('end N81001-queue-0'));
    expect(await searchAll(regions.midlands.store, 'ServiceRequest')).toHaveLength(4);
  });

  it('never has more sends in flight than the concurrency', async () => {
    const regions = testRegions();
    const north = { ...regions.north, delivery: { ...regions.north.delivery, concurrency: 2 } };
    await ordersFor(regions, [0, 1, 2, 3]);
    const route = regions.hub.routeMessage.bind(regions.hub);
    let inFlight = 0;
    let most = 0;
    regions.hub.routeMessage = async (message, headers) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const answer = await route(message, headers);
      inFlight--;
      return answer;
    };
    expect(await deliverDue(north)).toMatchObject({ delivered: 4 });
    expect(most).toBe(2);
  });

  it('holds back only the queue of a delivery that must wait; the rest of that queue waits behind it', async () => {
    const regions = testRegions();
    await ordersFor(regions, [0, 0, 1]);
    const route = regions.hub.routeMessage.bind(regions.hub);
    regions.hub.routeMessage = async (message, headers) => {
      if (placerIn(message) === 'N81001-queue-0') throw new OutcomeError(unavailable('the receiver is restarting'));
      return route(message, headers);
    };
    expect(await deliverDue(regions.north)).toMatchObject({ delivered: 1, retried: 1, waiting: 1 });
    expect(regions.hub.routed.map((r) => r.correlationId)).toEqual(['case-2']);
    const open = await searchAll<Task>(regions.north.store, 'Task', pendingDeliveriesQuery(100));
    expect(open.map((t) => t.status)).toEqual(['requested', 'requested']);

    regions.hub.routeMessage = route;
    regions.clock.advance(1000);
    expect(await deliverDue(regions.north)).toMatchObject({ delivered: 2, waiting: 0 });
    expect(regions.hub.routed.map((r) => r.correlationId)).toEqual(['case-2', 'case-0', 'case-1']);
  });
});

describe('a long pass', () => {
  it('stops sending a queue halfway through the lease and puts the rest back, so no replica takes it over mid-queue', async () => {
    const regions = testRegions();
    await ordersFor(regions, [0, 0, 0]);
    const route = regions.hub.routeMessage.bind(regions.hub);
    regions.hub.routeMessage = async (message, headers) => {
      regions.clock.advance(regions.north.delivery.leaseMs / 2); // a slow hub
      return route(message, headers);
    };
    expect(await deliverDue(regions.north)).toMatchObject({ delivered: 1, waiting: 2 });
    const open = await searchAll<Task>(regions.north.store, 'Task', pendingDeliveriesQuery(100));
    expect(open.map((t) => [t.status, t.executionPeriod?.start])).toEqual([
      ['requested', undefined],
      ['requested', undefined],
    ]);
    regions.hub.routeMessage = route;
    expect(await deliverDue(regions.north)).toMatchObject({ delivered: 2, waiting: 0 });
    expect(regions.hub.routed.map((r) => r.correlationId)).toEqual(['case-0', 'case-1', 'case-2']);
  });
});

describe('a region that is down', () => {
  it('does not hold up deliveries elsewhere, however many wait for it', async () => {
    const regions = testRegions();
    const north = { ...regions.north, delivery: { ...regions.north.delivery, batchSize: 2 } };
    regions.hub.down.add('imaging-midlands');
    await ordersFor(regions, [0, 1]);
    expect(await deliverDue(north)).toMatchObject({ retried: 2 });
    await registerPatient(
      regions.north,
      GP,
      examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(5) }] }),
    );
    await placeOrder(
      regions.north,
      GP,
      exampleServiceRequest({
        identifier: [{ system: SYSTEMS.placerOrder, value: 'N81001-south-1' }],
        subject: patientReferenceByNhsNumber(testNhsNumber(5)),
        performer: [{ identifier: { system: ODS_SYSTEM, value: 'RS1' } }],
      }),
      'case-south',
    );
    expect(await deliverDue(north)).toMatchObject({ delivered: 1, waiting: 2 });
    expect(regions.hub.routed.map((r) => r.target)).toEqual(['imaging-south']);
  });
});

describe('the messages to send', () => {
  it('come with the poll, not read one by one; while deliveries wait they are left out and read when due', async () => {
    const regions = testRegions();
    const polls: URLSearchParams[] = [];
    const messageReads: string[] = [];
    const store = regions.north.store;
    const north = {
      ...regions.north,
      store: Object.assign(Object.create(store), {
        search: (type: Parameters<typeof store.search>[0], query?: Record<string, string>) => {
          if (type === 'Task' && query?.['business-status']) polls.push(new URLSearchParams(query));
          return store.search(type, query);
        },
        read: (type: Parameters<typeof store.read>[0], id: string) => {
          if (type === 'Bundle') messageReads.push(id);
          return store.read(type, id);
        },
      }) as typeof store,
    };
    const order = (n: number) =>
      placeOrder(
        regions.north,
        GP,
        exampleServiceRequest({
          identifier: [{ system: SYSTEMS.placerOrder, value: `N81001-include-${n}` }],
          subject: patientReferenceByNhsNumber(testNhsNumber(0)),
        }),
        `case-include-${n}`,
      );
    await registerPatient(
      regions.north,
      GP,
      examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(0) }] }),
    );
    await order(1);
    await order(2);
    expect(await deliverDue(north)).toMatchObject({ delivered: 2 });
    expect(polls.at(-1)?.get('_include')).toBe('Task:focus:Bundle');
    expect(messageReads).toEqual([]);
    expect(regions.hub.routed).toHaveLength(2);

    regions.hub.down.add('imaging-midlands');
    await order(3);
    expect(await deliverDue(north)).toMatchObject({ retried: 1 });
    expect(await deliverDue(north)).toMatchObject({ delivered: 0, waiting: 1 });
    expect(polls.at(-1)?.has('_include'), 'a poll while a delivery waits leaves the messages out').toBe(false);

    regions.hub.down.delete('imaging-midlands');
    regions.clock.advance(north.delivery.maxBackoffMs + 1);
    expect(await deliverDue(north)).toMatchObject({ delivered: 1 });
    expect(messageReads, 'the waiting delivery’s message is read on its own when due').toHaveLength(1);
    expect(regions.hub.routed.map((r) => r.target)).toEqual([
      'imaging-midlands',
      'imaging-midlands',
      'imaging-midlands',
    ]);
    expect(await deliverDue(north)).toMatchObject({ delivered: 0, waiting: 0 });
    expect(polls.at(-1)?.get('_include'), 'with nothing waiting, the messages come with the poll again').toBe(
      'Task:focus:Bundle',
    );
  });
});
