import type { Bundle, Task } from '@medplum/fhirtypes';
import { OutcomeError, SqliteStore, searchAll, validatingStore } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import type { Delivery, DeliveryRequest } from './outbox.ts';
import { deliveryEntries, deliveryOf, deliveryOrder, outboxTask, pendingDeliveriesQuery } from './outbox.ts';
import { runTransaction } from './transactions.ts';

const TASK_CODE = 'https://imaging-connect.example/fhir/CodeSystem/task-code';
const MESSAGE_REQUEST = 'https://imaging-connect.example/fhir/Id/message-request';
const QUEUED = new Date('2026-11-23T09:00:00.000Z');
const message: Bundle = {
  resourceType: 'Bundle',
  type: 'message',
  entry: [
    {
      fullUrl: 'urn:uuid:5a1f8f0e-8c0e-4b8e-9d7a-0f3c2b1a9e01',
      resource: {
        resourceType: 'MessageHeader',
        eventCoding: { system: 'https://imaging-connect.example/fhir/CodeSystem/message-event', code: 'task-update' },
        source: { endpoint: 'imaging-north' },
      },
    },
  ],
};

/** Queues one delivery in a fresh store, as the domain does, and returns the stored outbox Task. */
async function queued(request: DeliveryRequest): Promise<{ task: WithId<Task>; bundles: WithId<Bundle>[] }> {
  const store = validatingStore(new SqliteStore({ path: ':memory:' }));
  await runTransaction(store, deliveryEntries(request, 'north', QUEUED));
  const [task] = await searchAll<Task>(store, 'Task', pendingDeliveriesQuery(10));
  return { task: task as WithId<Task>, bundles: await searchAll<Bundle>(store, 'Bundle') };
}

const messageRequest: DeliveryRequest = {
  kind: 'deliver-message',
  requestId: 'req-1',
  correlationId: 'case-1',
  destination: 'imaging-midlands',
  message,
  patient: { reference: 'Patient/p1' },
};

/** Every optional field set, each to something a delivery can really hold. */
const settled = (messageId: string): Delivery => ({
  kind: 'deliver-message',
  messageId,
  id: 't1',
  versionId: '4',
  requestId: 'req-2',
  correlationId: 'case-2',
  destination: 'imaging-south',
  patient: { reference: 'Patient/p2' },
  ownerRegion: 'north',
  queuedAt: QUEUED,
  sequence: '00000000000000000042',
  status: 'delivered',
  attempts: 3,
  lastModified: new Date('2026-11-23T09:05:00.000Z'),
  claimedAt: new Date('2026-11-23T09:04:00.000Z'),
  deliveredAt: new Date('2026-11-23T09:05:00.000Z'),
  nextAttemptAt: new Date('2026-11-23T09:03:00.000Z'),
  progress: 'delivered',
  failure: 'earlier: 422 refused',
});

describe('deliveryOf: an outbox Task decoded once', () => {
  it('decodes a queued message delivery, its focus the stored Bundle', async () => {
    const { task, bundles } = await queued(messageRequest);
    expect(bundles).toHaveLength(1);
    const delivery = deliveryOf(task);
    expect(delivery).toEqual({
      kind: 'deliver-message',
      messageId: bundles[0]?.id,
      id: task.id,
      versionId: task.meta?.versionId,
      requestId: 'req-1',
      correlationId: 'case-1',
      destination: 'imaging-midlands',
      patient: { reference: 'Patient/p1' },
      ownerRegion: 'north',
      queuedAt: QUEUED,
      sequence: expect.stringMatching(/^\d{20}$/),
      status: 'pending',
      attempts: 0,
      lastModified: QUEUED,
    });
  });

  it('decodes a pointer delivery, its focus the study or report pointed to', async () => {
    const { task } = await queued({
      kind: 'register-pointer',
      requestId: 'req-3',
      correlationId: 'case-3',
      destination: 'national-locator',
      pointerTo: { reference: 'ImagingStudy/s1' },
    });
    expect(deliveryOf(task)).toMatchObject({ kind: 'register-pointer', pointerTo: { type: 'ImagingStudy', id: 's1' } });
    expect('patient' in deliveryOf(task)).toBe(false);
    const versioned = { ...task, focus: { reference: 'DiagnosticReport/r1/_history/2' } };
    expect(deliveryOf(versioned)).toMatchObject({ pointerTo: { type: 'DiagnosticReport', id: 'r1' } });
  });

  it.each([
    ['requested', 'pending'],
    ['in-progress', 'claimed'],
    ['completed', 'delivered'],
    ['failed', 'failed'],
  ] as const)('reads Task status %s as %s', async (taskStatus, status) => {
    const { task } = await queued(messageRequest);
    expect(deliveryOf({ ...task, status: taskStatus }).status).toBe(status);
  });

  it('keeps the layout operators and the demo read: inputs by name, code, request id', async () => {
    const { task } = await queued(messageRequest);
    const input = (name: string) => task.input?.find((i) => i.type?.text === name);
    expect(input('destination')?.valueString).toBe('imaging-midlands');
    expect(input('attempts')?.valueInteger).toBe(0);
    expect(input('correlation-id')?.valueString).toBe('case-1');
    expect(task.code?.coding).toEqual([{ system: TASK_CODE, code: 'deliver-message' }]);
    expect(task.identifier).toEqual([{ system: MESSAGE_REQUEST, value: 'req-1' }]);
    expect(task.status).toBe('requested');
  });
});

describe('outboxTask: the encoder the other way', () => {
  it('writes back exactly the Task it was decoded from (the store keeps meta)', async () => {
    const { task } = await queued(messageRequest);
    const { meta, ...rest } = task;
    expect(meta?.versionId).toBeDefined();
    expect(outboxTask(deliveryOf(task))).toEqual(rest);
  });

  it('decodes what it encodes, every optional field included', () => {
    const delivery = settled('b1');
    const task = { ...outboxTask(delivery), meta: { versionId: '4' } };
    expect(task).toMatchObject({
      status: 'completed',
      focus: { reference: 'Bundle/b1' },
      executionPeriod: { start: '2026-11-23T09:04:00.000Z', end: '2026-11-23T09:05:00.000Z' },
      restriction: { period: { start: '2026-11-23T09:03:00.000Z' } },
      businessStatus: { text: 'delivered' },
      statusReason: { text: 'earlier: 422 refused' },
    });
    expect(deliveryOf(task)).toEqual(delivery);
  });
});

describe('deliveryOf: a malformed outbox Task is a 422 naming each problem', () => {
  function problemsOf(task: Task): { status: number; expressions: string[]; message: string } {
    try {
      deliveryOf(task);
    } catch (err) {
      if (!(err instanceof OutcomeError)) throw err;
      return {
        status: err.status,
        expressions: (err.outcome.issue ?? []).flatMap((i) => i.expression ?? []),
        message: err.message,
      };
    }
    throw new Error('expected the Task to be refused as a delivery');
  }
  const withoutInput = (task: Task, name: string): Task => ({
    ...task,
    input: task.input?.filter((i) => i.type?.text !== name),
  });

  it.each([
    [
      'no destination',
      (t: Task) => withoutInput(t, 'destination'),
      "Task.input.where(type.text = 'destination')",
      /destination/,
    ],
    [
      'no correlation id',
      (t: Task) => withoutInput(t, 'correlation-id'),
      "Task.input.where(type.text = 'correlation-id')",
      /correlation id/,
    ],
    [
      'no attempt count',
      (t: Task) => withoutInput(t, 'attempts'),
      "Task.input.where(type.text = 'attempts')",
      /attempts/,
    ],
    ['no sequence', (t: Task) => withoutInput(t, 'sequence'), "Task.input.where(type.text = 'sequence')", /sequence/],
    ['no request id', (t: Task) => ({ ...t, identifier: [] }), 'Task.identifier', /request id/],
    ['no kind', (t: Task) => ({ ...t, code: { text: 'something' } }), 'Task.code', /code/],
    ['a status no delivery has', (t: Task) => ({ ...t, status: 'cancelled' as const }), 'Task.status', /'cancelled'/],
    ['no focus', (t: Task) => ({ ...t, focus: undefined }), 'Task.focus', /Bundle/],
    [
      'a focus of the wrong type',
      (t: Task) => ({ ...t, focus: { reference: 'ImagingStudy/s1' } }),
      'Task.focus',
      /'ImagingStudy\/s1'/,
    ],
    ['no owning region', (t: Task) => ({ ...t, owner: { reference: 'Organization/o1' } }), 'Task.owner', /region/],
    [
      'a queue time that is no date',
      (t: Task) => ({ ...t, authoredOn: 'yesterday' }),
      'Task.authoredOn',
      /'yesterday'/,
    ],
    [
      'a claim time that is no date',
      (t: Task) => ({ ...t, executionPeriod: { start: 'soon' } }),
      'Task.executionPeriod.start',
      /'soon'/,
    ],
    ['no version', (t: Task) => ({ ...t, meta: {} }), 'Task.meta.versionId', /version/],
  ])('%s', async (_, spoil, expression, text) => {
    const { task } = await queued(messageRequest);
    const problems = problemsOf(spoil(task));
    expect(problems.status).toBe(422);
    expect(problems.expressions).toEqual([expression]);
    expect(problems.message).toMatch(text);
  });

  it('lists every problem at once', async () => {
    const { task } = await queued(messageRequest);
    const spoilt = { ...withoutInput(withoutInput(task, 'destination'), 'attempts'), authoredOn: undefined };
    expect(problemsOf(spoilt).expressions.sort()).toEqual(
      [
        'Task.authoredOn',
        "Task.input.where(type.text = 'attempts')",
        "Task.input.where(type.text = 'destination')",
      ].sort(),
    );
  });

  it('refuses an attempt count that is not a whole number', async () => {
    const { task } = await queued(messageRequest);
    const others = withoutInput(task, 'attempts').input ?? [];
    const negative = { ...task, input: [...others, { type: { text: 'attempts' }, valueInteger: -1 }] };
    expect(problemsOf(negative).expressions).toEqual(["Task.input.where(type.text = 'attempts')"]);
  });
});

describe('deliveryOrder', () => {
  it('sends in the order queued, then by sequence within the same millisecond', () => {
    const at = (queuedAt: string, sequence: string) => ({
      ...settled('b'),
      id: sequence,
      queuedAt: new Date(queuedAt),
      sequence,
    });
    const later = at('2026-11-23T09:00:00.001Z', '00000000000000000001');
    const first = at('2026-11-23T09:00:00.000Z', '00000000000000000009');
    const second = at('2026-11-23T09:00:00.000Z', '00000000000000000010');
    expect([later, second, first].sort(deliveryOrder).map((d) => d.id)).toEqual([first.id, second.id, later.id]);
  });
});
