import type { AuditEvent, Bundle, BundleEntry, Task } from '@medplum/fhirtypes';
import { SYSTEMS } from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import {
  isRecordTransaction,
  queuedRequestIds,
  recordForDirect,
  recordsOf,
  requestIdsOf,
  noteStoredOutboxTasks,
} from './delivery-record.ts';

const outboxTask = (requestId: string, status: Task['status']): Task => ({
  resourceType: 'Task',
  status,
  intent: 'order',
  identifier: [{ system: SYSTEMS.messageRequest, value: requestId }],
  focus: { reference: 'Bundle/500' },
});

/** An order's transaction as the gateway sends it: the order, its message and the outbox Task. */
const order = (requestId: string): Bundle => ({
  resourceType: 'Bundle',
  type: 'transaction',
  entry: [
    {
      resource: { resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: {} },
      request: { method: 'POST', url: 'ServiceRequest' },
    },
    { resource: { resourceType: 'Bundle', type: 'message' }, request: { method: 'POST', url: 'Bundle' } },
    { resource: outboxTask(requestId, 'requested'), request: { method: 'POST', url: 'Task' } },
  ],
});

const completion = (taskId: string, requestId: string): BundleEntry => ({
  resource: { ...outboxTask(requestId, 'completed'), id: taskId },
  request: { method: 'PUT', url: `Task/${taskId}`, ifMatch: 'W/"1"' },
});

const audit = (taskId: string): BundleEntry<AuditEvent> => ({
  resource: {
    resourceType: 'AuditEvent',
    type: { code: '110100' },
    recorded: '2026-12-03T12:00:00Z',
    agent: [{ requestor: true }],
    source: { observer: { display: 'north' } },
    entity: [{ what: { reference: 'Patient/9' } }, { what: { reference: `Task/${taskId}` } }],
  },
  request: { method: 'POST', url: 'AuditEvent' },
});

/** What an AuditEvent entry's entities name. */
const named = (entry: BundleEntry | undefined) =>
  (entry?.resource as AuditEvent | undefined)?.entity?.map((e) => e.what?.reference);

const transaction = (entry: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', type: 'transaction', entry });

describe("the delivery's record, replayed on the direct side", () => {
  it('tells the record (outbox Task outcomes with their AuditEvents) from an order and anything else', () => {
    expect(isRecordTransaction(transaction([completion('11', 'req-a'), audit('11')]))).toBe(true);
    expect(isRecordTransaction(order('req-a'))).toBe(false);
    // A Task PUT without If-Match, or beside another kind of write, is not the outbox's record.
    const unversioned = completion('11', 'req-a');
    delete unversioned.request?.ifMatch;
    expect(isRecordTransaction(transaction([unversioned, audit('11')]))).toBe(false);
    const patientPut: BundleEntry = {
      resource: { resourceType: 'Patient' },
      request: { method: 'PUT', url: 'Patient/9' },
    };
    expect(isRecordTransaction(transaction([completion('11', 'req-a'), patientPut]))).toBe(false);
  });

  it('keeps only the deliveries of the round, each with the AuditEvent that names its Task', () => {
    const batch = transaction([completion('7', 'req-earlier'), completion('11', 'req-a'), audit('7'), audit('11')]);
    const onlyEarlier = transaction([completion('7', 'req-earlier'), audit('7')]);
    const kept = recordsOf([batch, onlyEarlier], new Set(queuedRequestIds(order('req-a'))));
    expect(kept).toHaveLength(1);
    expect(kept[0]?.entry?.map((e) => e.request?.url)).toEqual(['Task/11', 'AuditEvent']);
    expect(named(kept[0]?.entry?.[1])).toEqual(['Patient/9', 'Task/11']);
    expect(requestIdsOf(kept[0] as Bundle)).toEqual(['req-a']);
  });

  it('reads where HAPI stored each outbox Task from its answer, for creates and for updates', () => {
    const answer: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction-response',
      entry: [
        { response: { status: '201 Created', location: 'ServiceRequest/1/_history/1' } },
        { response: { status: '201 Created', location: 'Bundle/2/_history/1' } },
        { response: { status: '201 Created', location: 'http://hapi/fhir/north/Task/3/_history/1' } },
      ],
    };
    const stored = new Map();
    noteStoredOutboxTasks(stored, order('req-a'), answer);
    expect([...stored]).toEqual([['req-a', { id: '3', versionId: '1' }]]);
    const updated: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction-response',
      entry: [
        { response: { status: '200 OK', location: 'Task/3/_history/2' } },
        { response: { status: '201 Created' } },
      ],
    };
    const sent = transaction([completion('3', 'req-a'), audit('3')]);
    noteStoredOutboxTasks(stored, sent, updated);
    // The update's version replaces the create's, so a second record of the same delivery names it.
    expect([...stored]).toEqual([['req-a', { id: '3', versionId: '2' }]]);
  });

  it("points the record at the direct side's Task and version, and leaves other Tasks' references alone", () => {
    const record = transaction([completion('11', 'req-a'), audit('11'), completion('111', 'req-b'), audit('111')]);
    const direct = recordForDirect(
      record,
      new Map([
        ['req-a', { id: '42', versionId: '1' }],
        ['req-b', { id: '43', versionId: '3' }],
      ]),
    );
    const [taskA, auditA, taskB, auditB] = direct.entry ?? [];
    expect(taskA?.request).toEqual({ method: 'PUT', url: 'Task/42', ifMatch: 'W/"1"' });
    expect(taskA?.resource?.id).toBe('42');
    expect(named(auditA)).toEqual(['Patient/9', 'Task/42']);
    // Task/111 is renamed as itself, not as Task/11 with a 1 after it.
    expect(taskB?.request).toEqual({ method: 'PUT', url: 'Task/43', ifMatch: 'W/"3"' });
    expect(named(auditB)).toEqual(['Patient/9', 'Task/43']);
    // The gateway's record itself is unchanged.
    expect(record.entry?.[0]?.request?.url).toBe('Task/11');
  });

  it('refuses a record of a delivery the direct side never queued', () => {
    expect(() => recordForDirect(transaction([completion('11', 'req-a'), audit('11')]), new Map())).toThrow(
      /did not store \(req-a\)/,
    );
  });
});
