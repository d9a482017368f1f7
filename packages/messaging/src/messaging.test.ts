import type { Bundle, MessageHeader, Patient, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { isBuiltFromValidated, NHS_NUMBER_SYSTEM, ODS_SYSTEM, OutcomeError, SYSTEMS } from '@imaging/fhir';
import { exampleFulfilmentTask, examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { describe, expect, it } from 'vitest';
import { buildMessage } from './build.ts';
import { ORDER_REQUEST, TASK_UPDATE } from './events.ts';
import type { MessageEntry, ParsedMessage } from './parse.ts';
import { entriesOf, parseMessage, validateReceived } from './parse.ts';
import { buildResponse } from './response.ts';

const patient: Patient = {
  resourceType: 'Patient',
  id: 'p1',
  meta: { versionId: '3', security: [{ system: 'https://example.org/access', code: 'N81001' }] },
  identifier: [{ system: NHS_NUMBER_SYSTEM, value: '9990000018' }],
};
const order: ServiceRequest = {
  resourceType: 'ServiceRequest',
  id: 's1',
  status: 'active',
  intent: 'order',
  identifier: [{ system: SYSTEMS.placerOrder, value: 'ORD-1' }],
  subject: { reference: 'Patient/p1' },
  encounter: { reference: 'Encounter/e-not-carried' },
};
const task: Task = {
  resourceType: 'Task',
  id: 't1',
  status: 'requested',
  intent: 'order',
  identifier: [{ system: SYSTEMS.task, value: 'TASK-1' }],
  focus: { reference: 'ServiceRequest/s1' },
  for: { reference: 'Patient/p1' },
  basedOn: [{ reference: 'CarePlan/unknown' }],
};

function orderMessage(): Bundle {
  return buildMessage({
    event: ORDER_REQUEST,
    timestamp: '2026-11-23T10:00:00Z',
    sourceService: 'imaging-north',
    destinationService: 'imaging-midlands',
    focus: order,
    resources: [patient, task],
    identifierOf: (ref) => (ref === 'Encounter/e-not-carried' ? { system: 'urn:enc', value: 'E1' } : undefined),
  });
}

function rejection(fn: () => unknown): OutcomeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof OutcomeError) return err;
    throw err;
  }
  throw new Error('expected an OutcomeError');
}

describe('buildMessage', () => {
  it('puts the MessageHeader first and the focus second', () => {
    const bundle = orderMessage();
    const header = bundle.entry?.[0]?.resource as MessageHeader;
    expect(header.eventCoding).toMatchObject({ code: 'servicerequest-request' });
    expect(header.focus?.[0]?.reference).toBe(bundle.entry?.[1]?.fullUrl);
    expect(bundle.entry?.[1]?.resource?.resourceType).toBe('ServiceRequest');
  });

  it('drops local ids, versions and security labels, rewrites carried references to urn:uuid, others to logical ones', () => {
    const message = parseMessage(orderMessage());
    const sr = entriesOf<ServiceRequest>(message, 'ServiceRequest')[0]?.resource as ServiceRequest;
    const carriedPatient = entriesOf<Patient>(message, 'Patient')[0];
    expect(sr.id).toBeUndefined();
    expect(carriedPatient?.resource.meta).toBeUndefined();
    expect(sr.subject?.reference).toBe(carriedPatient?.fullUrl);
    expect(sr.encounter).toEqual({ type: 'Encounter', identifier: { system: 'urn:enc', value: 'E1' } });
    // A reference with no identifier to stand for it is left out rather than left dangling.
    const carriedTask = entriesOf<Task>(message, 'Task')[0]?.resource as Task;
    expect(carriedTask.basedOn).toBeUndefined();
  });
});

describe('parseMessage', () => {
  it('returns the parts of a valid message', () => {
    const message = parseMessage(orderMessage());
    expect(message.event).toBe(ORDER_REQUEST);
    expect(message.sourceService).toBe('imaging-north');
    expect(message.destinationService).toBe('imaging-midlands');
    expect(message.focus.resource.resourceType).toBe('ServiceRequest');
    expect(message.entries).toHaveLength(3);
  });

  it('rejects a Bundle that is not a message with 400', () => {
    const err = rejection(() => parseMessage({ resourceType: 'Bundle', type: 'transaction' }));
    expect(err.status).toBe(400);
    expect(err.outcome.issue[0]?.expression).toEqual(['Bundle.type']);
  });

  it('rejects a message whose first entry is not a MessageHeader with 400', () => {
    const bundle = orderMessage();
    bundle.entry = bundle.entry?.slice(1);
    expect(rejection(() => parseMessage(bundle)).status).toBe(400);
  });

  it('reports every shape problem at once with 400', () => {
    const bundle = orderMessage();
    const header = bundle.entry?.[0]?.resource as MessageHeader;
    (header as { source?: unknown }).source = undefined;
    (bundle.entry?.[2] as { fullUrl?: string }).fullUrl = 'Patient/p1';
    const err = rejection(() => parseMessage(bundle));
    expect(err.status).toBe(400);
    expect(err.outcome.issue.map((i) => i.expression?.[0])).toEqual([
      'Bundle.entry[2].fullUrl',
      'Bundle.entry[0].resource.source.endpoint',
    ]);
  });

  it('rejects content of the wrong JSON types with 400, before anything reads it', () => {
    const bundle = orderMessage();
    (bundle.entry?.[1]?.resource as unknown as { requester: unknown }).requester = 7;
    (bundle.entry?.[3]?.resource as unknown as { owner: unknown }).owner = 'RM1';
    const err = rejection(() => parseMessage(bundle));
    expect(err.status).toBe(400);
    expect(err.outcome.issue.flatMap((i) => i.expression ?? [])).toEqual(
      expect.arrayContaining([
        'Bundle.entry[1].resource.requester',
        expect.stringMatching(/^Bundle\.entry\[3\]\.resource\.owner/),
      ]),
    );
  });

  it('rejects an unknown event with 422', () => {
    const bundle = orderMessage();
    (bundle.entry?.[0]?.resource as MessageHeader).eventCoding = { system: 'urn:x', code: 'nope' };
    const err = rejection(() => parseMessage(bundle));
    expect(err.status).toBe(422);
    expect(err.outcome.issue[0]?.code).toBe('not-supported');
  });

  it('rejects missing and extra entries with one issue each (422)', () => {
    const bundle = orderMessage();
    bundle.entry = bundle.entry?.filter((e) => e.resource?.resourceType !== 'Patient');
    bundle.entry?.push({
      fullUrl: 'urn:uuid:8c7a4c2e-0000-4000-8000-000000000001',
      resource: { resourceType: 'Observation', status: 'final', code: { text: 'Weight' } },
    });
    const err = rejection(() => parseMessage(bundle));
    expect(err.status).toBe(422);
    const texts = err.outcome.issue.map((i) => i.details?.text);
    expect(texts).toContain('A servicerequest-request message carries 1 Patient, not 0');
    expect(texts).toContain('A servicerequest-request message may not carry a Observation');
  });

  it('rejects a literal reference that points outside the message (422)', () => {
    const bundle = orderMessage();
    (bundle.entry?.[1]?.resource as ServiceRequest).subject = { reference: 'Patient/p1' };
    const err = rejection(() => parseMessage(bundle));
    expect(err.status).toBe(422);
    expect(err.outcome.issue[0]?.details?.text).toContain("Reference 'Patient/p1'");
  });

  it('rejects a focus that is not the event focus type (422)', () => {
    const bundle = buildMessage({
      event: TASK_UPDATE,
      timestamp: '2026-11-23T10:00:00Z',
      sourceService: 'a',
      destinationService: 'b',
      focus: task,
      resources: [],
      identifierOf: () => undefined,
    });
    (bundle.entry?.[0]?.resource as MessageHeader).focus = [
      { reference: 'urn:uuid:00000000-0000-4000-8000-000000000000' },
    ];
    expect(rejection(() => parseMessage(bundle)).outcome.issue.at(-1)?.expression).toEqual([
      'Bundle.entry[0].resource.focus[0]',
    ]);
  });
});

describe('buildResponse', () => {
  it('answers the request header, addressed back to its source', () => {
    const request = parseMessage(orderMessage());
    const response = buildResponse(
      request,
      'ok',
      { resourceType: 'OperationOutcome', issue: [] },
      '2026-11-23T10:00:01Z',
    );
    const header = response.entry?.[0]?.resource as MessageHeader;
    expect(header.response).toMatchObject({ identifier: request.header.id, code: 'ok' });
    expect(header.destination?.[0]?.endpoint).toBe('imaging-north');
    expect(response.entry?.[1]?.resource?.resourceType).toBe('OperationOutcome');
  });
});

describe('validateReceived', () => {
  const ods = (code: string) => ({ identifier: { system: ODS_SYSTEM, value: code } });
  /** An order message as a sender's gateway builds it, from resources valid under our profiles. */
  function validOrderMessage(change: { patient?: Partial<Patient>; task?: Partial<Task> } = {}): Bundle {
    return buildMessage({
      event: ORDER_REQUEST,
      timestamp: '2026-11-23T10:00:00Z',
      sourceService: 'imaging-north',
      destinationService: 'imaging-midlands',
      focus: exampleServiceRequest({ id: 'o', subject: { reference: 'Patient/p' } }),
      resources: [
        examplePatient({ id: 'p', ...change.patient }),
        exampleFulfilmentTask({
          id: 't',
          focus: { reference: 'ServiceRequest/o' },
          for: { reference: 'Patient/p' },
          ...change.task,
        }),
      ],
      identifierOf: () => undefined,
    });
  }
  const copies = (message: ParsedMessage) => message.entries;

  it('passes a valid message and marks it, and the entries it was told are copied, as validated', () => {
    const message = parseMessage(validOrderMessage());
    const [order, patient, task] = message.entries;
    validateReceived(message, [order as MessageEntry, patient as MessageEntry]);
    expect(isBuiltFromValidated(message.bundle)).toBe(true);
    expect([order, patient, task].map((e) => isBuiltFromValidated(e?.resource as Resource))).toEqual([
      true,
      true,
      false,
    ]);
    expect(isBuiltFromValidated(message.header)).toBe(false);
  });

  it('checks the copied entries against our profiles, at their place in the message (422), and marks nothing', () => {
    const badNhs = { identifier: [{ system: NHS_NUMBER_SYSTEM, value: '9434765918' }] };
    const message = parseMessage(validOrderMessage({ patient: badNhs, task: { owner: ods('not an ODS code') } }));
    const err = rejection(() => validateReceived(message, copies(message)));
    expect(err.status).toBe(422);
    expect(err.outcome.issue.map((i) => i.expression?.[0])).toEqual([
      'Bundle.entry[2].resource.identifier[0].value',
      'Bundle.entry[3].resource.owner.identifier.value',
    ]);
    expect(isBuiltFromValidated(message.bundle)).toBe(false);
    expect(message.entries.some((e) => isBuiltFromValidated(e.resource))).toBe(false);
    // An entry the receiver keeps no copy of is not held to the profiles (a Task update need not be a whole Task).
    validateReceived(message, []);
    expect(isBuiltFromValidated(message.bundle)).toBe(true);
  });

  it('refuses a code outside its required value set anywhere in the message, copied or not (422)', () => {
    const message = parseMessage(validOrderMessage({ task: { priority: 'whenever' as Task['priority'] } }));
    const err = rejection(() => validateReceived(message, []));
    expect(err.status).toBe(422);
    expect(err.outcome.issue.map((i) => i.expression?.[0])).toEqual(['Bundle.entry[3].resource.priority']);
  });

  it('no longer counts an entry, or the message, as validated once changed', () => {
    const message = parseMessage(validOrderMessage());
    validateReceived(message, copies(message));
    const patient = entriesOf<Patient>(message, 'Patient')[0]?.resource as Patient;
    patient.gender = 'female';
    expect(isBuiltFromValidated(patient)).toBe(false);
    expect(isBuiltFromValidated(message.bundle)).toBe(false);
  });
});
