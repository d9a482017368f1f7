import type { Bundle, Patient, ServiceRequest, Task } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exampleFulfilmentTask, examplePatient, exampleServiceRequest } from '../examples/index.ts';
import { OutcomeError } from '../outcomes.ts';
import type { FhirStore } from '../store/port.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { NHS_NUMBER_SYSTEM } from '../systems.ts';
import { builtFromValidated, validatingStore } from './validating-store.ts';

async function rejected(p: Promise<unknown>): Promise<{ status: number; issues: [string, string | undefined][] }> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof OutcomeError)) throw err;
    return { status: err.status, issues: (err.outcome.issue ?? []).map((i) => [i.code, i.expression?.[0]]) };
  }
  throw new Error('expected a rejection');
}

describe('validatingStore', () => {
  let inner: SqliteStore;
  let store: FhirStore;
  beforeEach(() => {
    inner = new SqliteStore({ path: ':memory:' });
    store = validatingStore(inner);
  });
  afterEach(async () => {
    await store.close();
  });

  const count = async (type: 'Patient' | 'ServiceRequest' | 'Task') =>
    (await inner.search(type, { _total: 'accurate' })).resources.length;

  it('creates a valid resource', async () => {
    const { resource, created } = await store.create(examplePatient());
    expect(created).toBe(true);
    expect((await inner.read<Patient>('Patient', resource.id)).identifier?.[0]?.value).toBe(
      examplePatient().identifier?.[0]?.value,
    );
    expect(store.description).toBe(inner.description);
  });

  it('rejects an invalid create with 422 and writes nothing', async () => {
    const bad = examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: '9434765918' }] });
    expect(await rejected(store.create(bad))).toEqual({
      status: 422,
      issues: [['business-rule', 'Patient.identifier[0].value']],
    });
    expect(await count('Patient')).toBe(0);
  });

  it('rejects a structurally invalid create with 400, even a conditional one that would match', async () => {
    await store.create(examplePatient(), {
      ifNoneExist: `identifier=${NHS_NUMBER_SYSTEM}|${examplePatient().identifier?.[0]?.value}`,
    });
    const bad = { ...examplePatient(), colour: 'blue' } as never;
    const result = await rejected(
      store.create(bad, { ifNoneExist: `identifier=${NHS_NUMBER_SYSTEM}|${examplePatient().identifier?.[0]?.value}` }),
    );
    expect(result).toEqual({ status: 400, issues: [['structure', 'Patient.colour']] });
    expect(await count('Patient')).toBe(1);
  });

  it('rejects an invalid update and keeps the stored version', async () => {
    const { resource } = await store.create(exampleServiceRequest());
    const result = await rejected(
      store.update<ServiceRequest>({ ...resource, intent: 'plan' }, { ifMatch: resource.meta?.versionId }),
    );
    expect(result).toEqual({ status: 422, issues: [['business-rule', 'ServiceRequest.intent']] });
    const current = await inner.read<ServiceRequest>('ServiceRequest', resource.id);
    expect(current.intent).toBe('order');
    expect(current.meta?.versionId).toBe(resource.meta?.versionId);
  });

  it('updates with a valid resource', async () => {
    const { resource } = await store.create(exampleServiceRequest());
    const updated = await store.update<ServiceRequest>(
      { ...resource, status: 'completed' },
      { ifMatch: resource.meta?.versionId },
    );
    expect(updated.status).toBe('completed');
  });

  const orderTransaction = (task: Task): Bundle => ({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: 'urn:uuid:7f0c1a52-1d2e-4a3b-9c8d-000000000001',
        resource: exampleServiceRequest(),
        request: { method: 'POST', url: 'ServiceRequest' },
      },
      { resource: task, request: { method: 'POST', url: 'Task' } },
    ],
  });

  it('runs a valid transaction whose references use the entries’ urn:uuid full URLs', async () => {
    const task = exampleFulfilmentTask({ focus: { reference: 'urn:uuid:7f0c1a52-1d2e-4a3b-9c8d-000000000001' } });
    const response = await store.transaction(orderTransaction(task));
    expect(response.entry?.map((e) => e.response?.status?.slice(0, 3))).toEqual(['201', '201']);
    const [stored] = (await inner.search<Task>('Task')).resources;
    expect(stored?.focus?.reference).toMatch(/^ServiceRequest\//);
  });

  it('checks a urn:uuid reference against the type of the entry it names', async () => {
    const bundle = orderTransaction(
      exampleFulfilmentTask({ focus: { reference: 'urn:uuid:7f0c1a52-1d2e-4a3b-9c8d-000000000001' } }),
    );
    bundle.entry?.unshift({
      fullUrl: 'urn:uuid:7f0c1a52-1d2e-4a3b-9c8d-000000000002',
      resource: examplePatient(),
      request: { method: 'POST', url: 'Patient' },
    });
    const wrong = bundle.entry?.[2]?.resource as Task;
    wrong.focus = { reference: 'urn:uuid:7f0c1a52-1d2e-4a3b-9c8d-000000000002' };
    expect(await rejected(store.transaction(bundle))).toEqual({
      status: 422,
      issues: [['business-rule', 'Bundle.entry[2].resource.focus']],
    });
    expect(await count('Patient')).toBe(0);
  });

  it('stores a message Bundle whose entries refer to each other by urn:uuid', async () => {
    // The gateways keep outgoing messages in the store until delivered: references inside such a
    // Bundle point at its own entries, not at the transaction's.
    const message: Bundle = {
      resourceType: 'Bundle',
      type: 'message',
      timestamp: '2026-11-23T09:00:00Z',
      entry: [
        {
          fullUrl: 'urn:uuid:7f0c1a52-1d2e-4a3b-9c8d-00000000000a',
          resource: {
            resourceType: 'MessageHeader',
            eventCoding: { system: 'urn:x', code: 'y' },
            source: { endpoint: 'a' },
            focus: [{ reference: 'urn:uuid:7f0c1a52-1d2e-4a3b-9c8d-00000000000b' }],
          },
        },
        {
          fullUrl: 'urn:uuid:7f0c1a52-1d2e-4a3b-9c8d-00000000000b',
          resource: exampleServiceRequest({ subject: { reference: 'urn:uuid:7f0c1a52-1d2e-4a3b-9c8d-00000000000c' } }),
        },
        { fullUrl: 'urn:uuid:7f0c1a52-1d2e-4a3b-9c8d-00000000000c', resource: examplePatient() },
      ],
    };
    const response = await store.transaction({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: message, request: { method: 'POST', url: 'Bundle' } }],
    });
    expect(response.entry?.[0]?.response?.status).toMatch(/^201/);
  });

  it('still rejects a literal reference to the wrong type inside a stored Bundle', async () => {
    const message: Bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        {
          fullUrl: 'urn:uuid:7f0c1a52-1d2e-4a3b-9c8d-00000000000d',
          resource: exampleServiceRequest({ subject: { reference: 'Task/1' } }),
        },
      ],
    };
    expect((await rejected(store.create(message))).status).toBe(422);
  });

  it('rejects a transaction with any invalid entry, reports every entry’s problems, and writes nothing', async () => {
    const bundle = orderTransaction(exampleFulfilmentTask({ status: 'finished' as never, owner: undefined }));
    (bundle.entry?.[0]?.resource as ServiceRequest).authoredOn = undefined;
    expect(await rejected(store.transaction(bundle))).toEqual({
      status: 422,
      issues: [
        ['required', 'Bundle.entry[0].resource.authoredOn'],
        ['code-invalid', 'Bundle.entry[1].resource.status'],
        ['required', 'Bundle.entry[1].resource.owner'],
      ],
    });
    expect(await count('ServiceRequest')).toBe(0);
    expect(await count('Task')).toBe(0);
  });

  it('reports a structural problem in any entry as a 400', async () => {
    const bundle = orderTransaction({ ...exampleFulfilmentTask(), shape: 'round' } as Task);
    const result = await rejected(store.transaction(bundle));
    expect(result.status).toBe(400);
    expect(result.issues).toContainEqual(['structure', 'Bundle.entry[1].resource.shape']);
    expect(await count('ServiceRequest')).toBe(0);
  });

  it('validates PUT entries and leaves DELETE entries alone', async () => {
    const { resource } = await store.create(examplePatient());
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { ...resource, identifier: [] }, request: { method: 'PUT', url: `Patient/${resource.id}` } },
        { request: { method: 'DELETE', url: 'Task/nothing' } },
      ],
    };
    expect(await rejected(store.transaction(bundle))).toEqual({
      status: 422,
      issues: [['required', 'Bundle.entry[0].resource.identifier']],
    });
  });

  it('passes reads, searches and deletes through', async () => {
    const { resource } = await store.create(examplePatient());
    expect((await store.read('Patient', resource.id)).id).toBe(resource.id);
    expect((await store.search('Patient')).resources).toHaveLength(1);
    expect(await store.history('Patient', resource.id)).toHaveLength(1);
    await store.delete('Patient', resource.id);
    expect((await store.search('Patient')).resources).toHaveLength(0);
  });
});

describe('validatingStore with trustBuilt', () => {
  let inner: SqliteStore;
  let trusting: FhirStore;
  beforeEach(() => {
    inner = new SqliteStore({ path: ':memory:' });
    trusting = validatingStore(inner, { trustBuilt: true });
  });
  afterEach(async () => {
    await trusting.close();
  });

  // Invalid on purpose (the NHS number's check digit is wrong): whether it is stored shows whether it
  // was validated.
  const unvalidatable = () => examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: '9434765918' }] });
  const patients = async () => (await inner.search('Patient', { _total: 'accurate' })).resources.length;

  it('stores a resource marked as built from validated input without validating it again', async () => {
    await trusting.create(builtFromValidated(unvalidatable()));
    expect(await patients()).toBe(1);
  });

  it('validates a marked resource whose content changed after it was marked', async () => {
    const patient = builtFromValidated(examplePatient());
    patient.identifier = unvalidatable().identifier;
    expect((await rejected(trusting.create(patient))).status).toBe(422);
    expect(await patients()).toBe(0);
  });

  it('validates what is not marked, in a create and in a transaction beside a marked entry', async () => {
    expect((await rejected(trusting.create(unvalidatable()))).status).toBe(422);
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: builtFromValidated(exampleServiceRequest()), request: { method: 'POST', url: 'ServiceRequest' } },
        { resource: unvalidatable(), request: { method: 'POST', url: 'Patient' } },
      ],
    };
    expect(await rejected(trusting.transaction(bundle))).toEqual({
      status: 422,
      issues: [['business-rule', 'Bundle.entry[1].resource.identifier[0].value']],
    });
    expect(await patients()).toBe(0);
  });

  it('marks what is built from marked sources only while each source is unchanged', async () => {
    const source = builtFromValidated(examplePatient());
    await trusting.create(builtFromValidated(unvalidatable(), [source]));
    expect(await patients()).toBe(1);
    source.gender = 'female';
    expect((await rejected(trusting.create(builtFromValidated(unvalidatable(), [source])))).status).toBe(422);
    expect((await rejected(trusting.create(builtFromValidated(unvalidatable(), [examplePatient()])))).status).toBe(422);
    expect(await patients()).toBe(1);
  });

  it('is off by default: a store without trustBuilt validates marked resources too', async () => {
    const strict = validatingStore(inner);
    expect((await rejected(strict.create(builtFromValidated(unvalidatable())))).status).toBe(422);
    expect(await patients()).toBe(0);
  });
});
