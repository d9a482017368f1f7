import type { OperationOutcome, Task } from '@medplum/fhirtypes';
import {
  CODE_SYSTEMS,
  forbidden,
  NHS_NUMBER_SYSTEM,
  searchAll,
  SYSTEMS,
  testNhsNumber,
  unavailable,
  unprocessable,
} from '@imaging/fhir';
import { MESSAGE_REFUSAL } from '@imaging/messaging';
import type { WithId } from '@imaging/fhir';
import { examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { deliverDue } from './domain/delivery.ts';
import { placeOrder } from './domain/orders.ts';
import { registerPatient } from './domain/registrations.ts';
import { updateTask } from './domain/tasks.ts';
import type { ConnectedRegion } from './testing/national.ts';
import { connectedRegions } from './testing/national.ts';
import { GP } from './testing/regions.ts';
import { auditsOf } from './testing/alerts.ts';

/**
 * What the sender does with the answer to a delivery, through the real hub and gateway apps: a
 * permanent refusal is parked as failed after one attempt, with the reason on the delivery and on the
 * case; a transient failure is retried with backoff.
 */
const world = await connectedRegions();
afterAll(() => world.close());
const { north, midlands, clock } = world;

beforeEach(() => {
  world.answer('midlands', undefined);
});

const outboxOf = (region: ConnectedRegion) =>
  searchAll<Task>(region.deps.store, 'Task', { code: `${CODE_SYSTEMS.taskCode}|deliver-message` });

const fhir = (outcome: OperationOutcome, status: number) => () =>
  new Response(JSON.stringify(outcome), { status, headers: { 'Content-Type': 'application/fhir+json' } });

let cases = 0;
/** A new north order for RM1, queued for the midlands; returns its fulfilment Task and its delivery. */
async function northOrder() {
  const n = ++cases;
  const nhs = { system: NHS_NUMBER_SYSTEM, value: testNhsNumber(20 + n) };
  await registerPatient(north.deps, GP, examplePatient({ identifier: [nhs] }));
  const placed = await placeOrder(
    north.deps,
    GP,
    exampleServiceRequest({
      identifier: [{ system: SYSTEMS.placerOrder, value: `N81001-POISON-${n}` }],
      subject: { type: 'Patient', identifier: nhs },
    }),
    `case-poison-${n}`,
  );
  const delivery = (await outboxOf(north)).find((t) => t.status === 'requested') as WithId<Task>;
  return { task: placed.task, delivery };
}

/** The midlands' content refusal, as `checkMessageAuthority` words one. */
const notAuthorised = (text: string): OperationOutcome => ({
  resourceType: 'OperationOutcome',
  id: 'forbidden',
  issue: [
    {
      severity: 'error',
      code: 'forbidden',
      details: { coding: [MESSAGE_REFUSAL], text },
      expression: ['Bundle.entry[1].resource.requester'],
    },
  ],
});

describe('a receiver that refuses the message for good', () => {
  it.each([
    [
      '422',
      unprocessable('No such procedure here', 'Bundle.entry[1].resource.code'),
      422,
      /^422 .*No such procedure here/,
    ],
    [
      '403 (no authority over the content)',
      notAuthorised('No such procedure here'),
      403,
      /^403 .*No such procedure here/,
    ],
  ])(
    'answering %s: the delivery is parked after one attempt, the reason on it and on the case',
    async (_, outcome, status, reason) => {
      world.answer('midlands', fhir(outcome, status));
      const { task, delivery } = await northOrder();
      const sent = world.deliveriesTo('midlands').length;

      expect(await deliverDue(north.deps)).toMatchObject({ delivered: 0, retried: 0, failed: 1 });
      expect(world.deliveriesTo('midlands')).toHaveLength(sent + 1);
      const parked = await north.deps.store.read<Task>('Task', delivery.id);
      expect(parked.status).toBe('failed');
      expect(parked.statusReason?.text).toMatch(reason);

      // The referrer sees it on the order's own Task, which otherwise keeps its state.
      const onCase = await north.deps.store.read<Task>('Task', task.id);
      expect(onCase.status).toBe('requested');
      const note = onCase.note?.at(-1);
      expect(note?.text).toMatch(/imaging-midlands/);
      expect(note?.text).toMatch(/refused/);
      expect(note?.text).toContain('No such procedure here');
      expect(note?.time).toBe(clock.now().toISOString());
      // Both recorded: the refusal, with the receiver's status, and the note on the case.
      const refusal = (await auditsOf(north.deps, 'delivery-refused')).find((e) =>
        e.entity?.some((x) => x.what?.reference === `Task/${delivery.id}`),
      );
      expect(refusal).toMatchObject({ outcome: '4', outcomeDesc: expect.stringMatching(reason) });
      const noted = (await auditsOf(north.deps, 'delivery-refusal-noted')).find((e) =>
        e.entity?.some((x) => x.what?.reference === `Task/${task.id}`),
      );
      expect(noted).toMatchObject({ action: 'U', outcome: '0' });

      // Never tried again.
      clock.advance(3_600_000);
      expect(await deliverDue(north.deps)).toMatchObject({ delivered: 0, retried: 0, failed: 0, waiting: 0 });
      expect(world.deliveriesTo('midlands')).toHaveLength(sent + 1);
    },
  );

  it('a message the receiver itself can never accept is parked too (the receiver no longer holds the Task)', async () => {
    const { task } = await northOrder();
    expect(await deliverDue(north.deps)).toMatchObject({ delivered: 1 });
    // The midlands loses its copy of the Task (e.g. restored from an older backup).
    const [copy] = (await searchAll<Task>(midlands.deps.store, 'Task', {
      identifier: `${SYSTEMS.task}|${task.identifier?.[0]?.value}`,
    })) as WithId<Task>[];
    await midlands.deps.store.delete('Task', (copy as WithId<Task>).id);

    const current = await north.deps.store.read<Task>('Task', task.id);
    await updateTask(north.deps, GP, task.id, { ...current, status: 'cancelled' }, current.meta?.versionId, 'c');
    const sent = world.deliveriesTo('midlands').length;
    expect(await deliverDue(north.deps)).toMatchObject({ delivered: 0, retried: 0, failed: 1 });
    clock.advance(3_600_000);
    expect(await deliverDue(north.deps)).toMatchObject({ delivered: 0, retried: 0, failed: 0 });
    expect(world.deliveriesTo('midlands')).toHaveLength(sent + 1);
    const onCase = await north.deps.store.read<Task>('Task', task.id);
    expect(onCase.status).toBe('cancelled');
    expect(onCase.note?.at(-1)?.text).toMatch(/imaging-midlands.*refused/);
  });
});

describe('a receiver that cannot take the message for now', () => {
  it.each([
    ['503', unavailable('The midlands store is restarting'), 503],
    ['403 to the hub’s own token (its set-up, not the message)', forbidden('Insufficient scope'), 403],
  ])('answering %s: retried with backoff, not parked, nothing written on the case', async (_, outcome, status) => {
    world.answer('midlands', fhir(outcome, status));
    const { task, delivery } = await northOrder();
    // Earlier cases' deliveries are settled: only this one is pending.
    expect(await deliverDue(north.deps)).toMatchObject({ delivered: 0, retried: 1, failed: 0 });
    let pending = await north.deps.store.read<Task>('Task', delivery.id);
    expect(pending.status).toBe('requested');
    expect(pending.businessStatus?.text).toMatch(/attempt 1 failed: 50\d/);

    clock.advance(500); // the first backoff is 1 s
    expect(await deliverDue(north.deps)).toMatchObject({ retried: 0, waiting: 1 });
    clock.advance(600);
    expect(await deliverDue(north.deps)).toMatchObject({ retried: 1, failed: 0 });
    pending = await north.deps.store.read<Task>('Task', delivery.id);
    expect(pending.businessStatus?.text).toMatch(/attempt 2 failed/);
    expect((await north.deps.store.read<Task>('Task', task.id)).note).toBeUndefined();

    world.answer('midlands', undefined);
    clock.advance(2_000);
    expect(await deliverDue(north.deps)).toMatchObject({ delivered: 1, failed: 0 });
    expect((await north.deps.store.read<Task>('Task', delivery.id)).status).toBe('completed');
  });
});
