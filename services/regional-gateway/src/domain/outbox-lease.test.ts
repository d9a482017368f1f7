import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Task } from '@medplum/fhirtypes';
import {
  CODE_SYSTEMS,
  NHS_NUMBER_SYSTEM,
  patientReferenceByNhsNumber,
  searchAll,
  SqliteStore,
  SYSTEMS,
  testNhsNumber,
  token,
  validatingStore,
} from '@imaging/fhir';
import type { FhirStore, WithId } from '@imaging/fhir';
import { examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { afterAll, describe, expect, it } from 'vitest';
import { GP, testRegions } from '../testing/regions.ts';
import { meetingPoint } from '../testing/stores.ts';
import { deliverDue } from './delivery.ts';
import { ACCESS_SYSTEM } from './labels.ts';
import { placeOrder } from './orders.ts';
import { currentLease, releaseOutboxLease } from './outbox-lease.ts';
import type { GatewayDeps } from './ports.ts';
import { registerPatient } from './registrations.ts';

const temp = mkdtempSync(join(tmpdir(), 'outbox-lease-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Two replicas of the north gateway on one store file, each with its own replica id. */
function twoReplicas(wrap: (store: FhirStore, replica: string) => FhirStore = (store) => store) {
  const regions = testRegions();
  const file = join(temp, `${crypto.randomUUID()}.sqlite`);
  const replica = (replicaId: string): GatewayDeps => {
    const deps = regions.open('north', wrap(validatingStore(new SqliteStore({ path: file })), replicaId));
    return { ...deps, delivery: { ...deps.delivery, replicaId } };
  };
  const a = replica('replica-a');
  const b = replica('replica-b');
  return { regions, a, b, close: async () => Promise.all([a.store.close(), b.store.close()]) };
}

async function registerPatients(deps: GatewayDeps, patients: number[]): Promise<void> {
  for (const p of patients)
    await registerPatient(
      deps,
      GP,
      examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(p) }] }),
    );
}

let placed = 0;
/** One order per (registered) patient number given, placed at `deps`; returns their correlation ids. */
async function orders(deps: GatewayDeps, patients: number[]): Promise<string[]> {
  const cases: string[] = [];
  for (const p of patients) {
    const nhs = testNhsNumber(p);
    const placer = `N81001-lease-${++placed}`;
    const correlationId = `case-${placer}-patient-${p}`;
    await placeOrder(
      deps,
      GP,
      exampleServiceRequest({
        identifier: [{ system: SYSTEMS.placerOrder, value: placer }],
        subject: patientReferenceByNhsNumber(nhs),
      }),
      correlationId,
    );
    cases.push(correlationId);
  }
  return cases;
}

const outboxTasks = (deps: GatewayDeps) =>
  searchAll<Task>(deps.store, 'Task', { code: token(CODE_SYSTEMS.taskCode, 'deliver-message') });

describe('two replicas on one store', () => {
  it('send each message exactly once, in order per patient, one replica at a time', async () => {
    const meet = meetingPoint(2);
    // Both replicas poll before either takes the lease: they meet at the poll.
    const { regions, a, b, close } = twoReplicas((store) =>
      Object.assign(Object.create(store), {
        search: async (...args: Parameters<FhirStore['search']>) => {
          const query = args[1] as Record<string, string> | undefined;
          if (args[0] === 'Task' && query?.['business-status']) await meet();
          return store.search(...args);
        },
      }),
    );
    await registerPatients(a, [0, 1, 2]);
    const all: string[] = [];
    const passes = [];
    for (const round of [0, 1, 2]) {
      all.push(...(await orders(round % 2 ? b : a, [0, 1, 0, 2, 0])));
      passes.push(await Promise.all([deliverDue(a), deliverDue(b)]));
      regions.clock.advance(a.delivery.leaseMs / 3);
    }
    const routed = regions.hub.routed.map((r) => r.correlationId);
    expect(routed).toHaveLength(all.length);
    expect(new Set(routed)).toEqual(new Set(all));
    expect(new Set(regions.hub.routed.map((r) => r.requestId)).size).toBe(all.length);
    // Each patient's orders went out in the order placed.
    for (const patient of [0, 1, 2]) {
      const mine = (list: string[]) => list.filter((c) => c.endsWith(`-patient-${patient}`));
      expect(mine(routed)).toEqual(mine(all));
    }
    // In each round one replica sent and the other waited.
    for (const [first, second] of passes) {
      expect([first.delivered, second.delivered].sort((x, y) => x - y)).toEqual([0, 5]);
      expect(first.waiting + second.waiting).toBe(5);
    }
    expect((await searchAll(regions.midlands.store, 'ServiceRequest')).length).toBe(all.length);
    await close();
  });

  it('leave the other waiting while one holds the lease; once it lapses, what was in flight is sent again and dropped by the receiver', async () => {
    let crashed = false;
    const { regions, a, b, close } = twoReplicas((store, replica) =>
      replica === 'replica-b'
        ? store
        : Object.assign(Object.create(store), {
            update: (...args: Parameters<FhirStore['update']>) =>
              crashed ? Promise.reject(new Error('killed')) : store.update(...args),
            transaction: (...args: Parameters<FhirStore['transaction']>) =>
              crashed ? Promise.reject(new Error('killed')) : store.transaction(...args),
          }),
    );
    await registerPatients(a, [0, 1]);
    await orders(a, [0]);
    const route = regions.hub.routeMessage.bind(regions.hub);
    // Replica A sends, and dies before it stores the outcome.
    a.hub = {
      ...regions.hub,
      routeMessage: async (message, headers) => {
        const answer = await route(message, headers);
        crashed = true;
        return answer;
      },
    };
    await expect(deliverDue(a)).rejects.toThrow('killed');
    expect(regions.hub.routed).toHaveLength(1);

    expect(await deliverDue(b)).toMatchObject({ delivered: 0, waiting: 1 });
    regions.clock.advance(a.delivery.leaseMs - 1);
    expect(await deliverDue(b)).toMatchObject({ delivered: 0, waiting: 1 });
    regions.clock.advance(1);
    expect(await deliverDue(b)).toMatchObject({ delivered: 1, waiting: 0 });

    const [first, again] = regions.hub.routed;
    expect(again?.requestId).toBe(first?.requestId);
    expect(await searchAll(regions.midlands.store, 'ServiceRequest')).toHaveLength(1);
    expect((await outboxTasks(b)).map((t) => t.status)).toEqual(['completed']);
    expect((await currentLease(b))?.holder).toBe('replica-b');
    await close();
  });

  it('refuse a stale taker: a replica that read the lapsed lease loses it to the holder that renewed it first', async () => {
    let renewFirst: (() => Promise<unknown>) | undefined;
    const { regions, a, b, close } = twoReplicas((store, replica) =>
      replica === 'replica-a'
        ? store
        : Object.assign(Object.create(store), {
            update: async (...args: Parameters<FhirStore['update']>) => {
              const [resource] = args;
              const lease = resource.resourceType === 'Task' && resource.code?.coding?.[0]?.code === 'outbox-lease';
              if (lease && renewFirst) {
                const renew = renewFirst;
                renewFirst = undefined;
                await renew();
              }
              return store.update(...args);
            },
          }),
    );
    await registerPatients(a, [0, 1]);
    await orders(a, [0]);
    expect(await deliverDue(a)).toMatchObject({ delivered: 1 });
    regions.clock.advance(a.delivery.leaseMs); // lapsed: B may take it, and reads it as free
    await orders(a, [1]);
    renewFirst = () => deliverDue(a); // …but A renews it between B's read and B's write
    expect(await deliverDue(b)).toMatchObject({ delivered: 0, waiting: 1 });
    expect(renewFirst, 'A renewed between B’s read and B’s write').toBeUndefined();
    expect(regions.hub.routed).toHaveLength(2);
    expect(new Set(regions.hub.routed.map((r) => r.requestId)).size).toBe(2);
    expect((await currentLease(b))?.holder).toBe('replica-a');
    await close();
  });

  it('let the other send at once when the holder gives the lease up as it stops', async () => {
    const { regions, a, b, close } = twoReplicas();
    await registerPatients(a, [0, 1]);
    await orders(a, [0]);
    expect(await deliverDue(a)).toMatchObject({ delivered: 1 });
    await orders(a, [1]);
    expect(await deliverDue(b)).toMatchObject({ delivered: 0, waiting: 1 });
    await releaseOutboxLease(a);
    expect(await deliverDue(b)).toMatchObject({ delivered: 1, waiting: 0 });
    expect(regions.hub.routed).toHaveLength(2);
    await close();
  });
});

describe('the lease', () => {
  /** A labelled Task holding north's lease identifier, written straight into the store (no gateway accepts it). */
  const plantedLease = (): Task => ({
    resourceType: 'Task',
    meta: { security: [{ system: ACCESS_SYSTEM, code: 'N81001' }] },
    identifier: [{ system: SYSTEMS.outboxLease, value: 'north' }],
    status: 'in-progress',
    intent: 'order',
    code: { coding: [{ system: CODE_SYSTEMS.taskCode, code: 'outbox-lease' }] },
    input: [
      { type: { text: 'holder' }, valueString: 'someone-else' },
      { type: { text: 'expires' }, valueDateTime: '2999-01-01T00:00:00Z' },
    ],
  });
  /** North on a store that does not validate, as if such a Task had been written straight to the FHIR server. */
  const unvalidatedNorth = () => {
    const regions = testRegions();
    return {
      regions,
      north: regions.open('north', new SqliteStore({ path: join(temp, `${crypto.randomUUID()}.sqlite`) })),
    };
  };

  it("is only this gateway's own: a labelled Task holding its identifier holds nothing", async () => {
    const { regions, north } = unvalidatedNorth();
    await registerPatients(north, [0, 1]);
    await orders(north, [0]);
    expect(await deliverDue(north)).toMatchObject({ delivered: 1 });
    await north.store.create(plantedLease());
    await orders(north, [1]);
    expect(await deliverDue(north)).toMatchObject({ delivered: 1, waiting: 0 });
    expect(regions.hub.routed).toHaveLength(2);
    expect((await currentLease(north))?.holder).not.toBe('someone-else');
    await north.store.close();
  });

  it('says loudly, naming it, when such a Task stands where the lease would be created', async () => {
    const { regions, north } = unvalidatedNorth();
    await registerPatients(north, [0]);
    await orders(north, [0]);
    const planted = (await north.store.create(plantedLease())).resource;
    await expect(deliverDue(north)).rejects.toThrow(`Task/${planted.id} holds this gateway's outbox lease identifier`);
    expect(regions.hub.routed).toHaveLength(0);
    await north.store.close();
  });
});

describe('a delivery', () => {
  it('is written once more when settled: queued, then delivered, and no claim between', async () => {
    const regions = testRegions();
    await registerPatients(regions.north, [0, 1]);
    await orders(regions.north, [0, 1, 0]);
    expect(await deliverDue(regions.north)).toMatchObject({ delivered: 3 });
    for (const task of await outboxTasks(regions.north)) {
      const versions = await regions.north.store.history<Task>('Task', task.id);
      expect(versions.map((v) => v.status)).toEqual(['completed', 'requested']);
    }
  });

  it('claimed by an earlier version of the gateway waits until its claim lapses, with its queue, then goes out', async () => {
    const regions = testRegions();
    const { north } = regions;
    await registerPatients(north, [0]);
    await orders(north, [0]);
    const [claimed] = (await outboxTasks(north)) as WithId<Task>[];
    if (!claimed) throw new Error('no delivery queued');
    const at = north.clock.now().toISOString();
    await north.store.update<Task>(
      { ...claimed, status: 'in-progress', executionPeriod: { start: at }, lastModified: at },
      { ifMatch: claimed.meta?.versionId },
    );
    await orders(north, [0]);
    expect(await deliverDue(north)).toMatchObject({ delivered: 0, waiting: 2 });
    regions.clock.advance(north.delivery.leaseMs);
    expect(await deliverDue(north)).toMatchObject({ delivered: 2, waiting: 0 });
    expect((await outboxTasks(north)).map((t) => t.status)).toEqual(['completed', 'completed']);
  });
});
