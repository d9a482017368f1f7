import type { Task } from '@medplum/fhirtypes';
import { searchAll } from '@imaging/fhir';
import type { WithId, memoryLogger } from '@imaging/fhir';
import { examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { describe, expect, it } from 'vitest';
import { GP, testRegions } from '../testing/regions.ts';
import { deliverDue } from './delivery.ts';
import { placeOrder } from './orders.ts';
import { registerPatient } from './registrations.ts';

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

    expect(await deliverDue(north)).toMatchObject({ delivered: 0, failed: 0, retried: 0, waiting: 0 });
  });
});
