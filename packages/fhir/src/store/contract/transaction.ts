import type { Bundle, BundleEntry, Patient, Task } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { referenceTo } from '../helpers.ts';
import type { ContractContext } from './fixtures.ts';
import { CONTRACT_SYSTEM, expectOutcome } from './fixtures.ts';

/** Transaction Bundles: urn:uuid references, conditional creates, If-Match, and all-or-nothing. */
export function transactionTests(ctx: ContractContext): void {
  const { unique, identifier, task, patient, create } = ctx;

  /** A patient and a task that points at it through a urn:uuid, each created conditionally. */
  const conditionalBundle = (patientValue: string, taskValue: string): Bundle => {
    const patientUrl = `urn:uuid:${randomUUID()}`;
    return {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: `urn:uuid:${randomUUID()}`,
          resource: task({ identifier: [identifier(taskValue)], for: { reference: patientUrl } }),
          request: { method: 'POST', url: 'Task', ifNoneExist: `identifier=${CONTRACT_SYSTEM}|${taskValue}` },
        },
        {
          fullUrl: patientUrl,
          resource: patient({ identifier: [identifier(patientValue)] }),
          request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${CONTRACT_SYSTEM}|${patientValue}` },
        },
      ],
    };
  };

  it('creates every entry and rewrites urn:uuid references to the new ids', async () => {
    const patientUrl = `urn:uuid:${randomUUID()}`;
    const response = await ctx.store.transaction({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: patientUrl, resource: patient(), request: { method: 'POST', url: 'Patient' } },
        {
          fullUrl: `urn:uuid:${randomUUID()}`,
          resource: task({
            for: { reference: patientUrl },
            input: [{ type: { text: 'note' }, valueReference: { reference: patientUrl } }],
          }),
          request: { method: 'POST', url: 'Task' },
        },
      ],
    });
    expect(response.type).toBe('transaction-response');
    expect(response.entry).toHaveLength(2);
    const [patientEntry, taskEntry] = response.entry as [BundleEntry, BundleEntry];
    expect(patientEntry.response?.status).toMatch(/^201/);
    expect(taskEntry.response?.status).toMatch(/^201/);
    const patientRef = locationRef(patientEntry);
    const taskRef = locationRef(taskEntry);
    expect(patientRef).toMatch(/^Patient\/[A-Za-z0-9\-.]+$/);
    // each entry carries the stored resource (the services read it from here)
    expect(entryRef(patientEntry)).toBe(patientRef);
    expect(entryRef(taskEntry)).toBe(taskRef);
    expect(patientEntry.resource?.meta?.versionId).toBe('1');
    expect((taskEntry.resource as Task | undefined)?.for?.reference).toBe(patientRef);
    const stored = await ctx.store.read<Task>('Task', taskRef.split('/')[1] as string);
    expect(stored.for?.reference).toBe(patientRef);
    expect(stored.input?.[0]?.valueReference?.reference).toBe(patientRef);
    await expect(ctx.store.read('Patient', patientRef.split('/')[1] as string)).resolves.toMatchObject({
      resourceType: 'Patient',
    });
  });

  it('conditional creates: a second identical transaction creates nothing and resolves references to what exists', async () => {
    const patientValue = unique('tx-patient');
    const taskValue = unique('tx-task');
    const first = await ctx.store.transaction(conditionalBundle(patientValue, taskValue));
    const [task1, patient1] = first.entry as [BundleEntry, BundleEntry];
    expect(task1.response?.status).toMatch(/^201/);
    expect(patient1.response?.status).toMatch(/^201/);

    const second = await ctx.store.transaction(conditionalBundle(patientValue, taskValue));
    const [task2, patient2] = second.entry as [BundleEntry, BundleEntry];
    expect(task2.response?.status).toMatch(/^200/);
    expect(patient2.response?.status).toMatch(/^200/);
    expect(locationRef(task2)).toBe(locationRef(task1));
    expect(locationRef(patient2)).toBe(locationRef(patient1));
    // a matched entry carries the existing resource, as a created one does
    expect(entryRef(task2)).toBe(locationRef(task1));
    expect(entryRef(patient2)).toBe(locationRef(patient1));
    expect((task2.resource as Task | undefined)?.for?.reference).toBe(locationRef(patient1));

    const patients = await ctx.store.search<Patient>('Patient', { identifier: `${CONTRACT_SYSTEM}|${patientValue}` });
    expect(patients.resources).toHaveLength(1);
    const tasks = await ctx.store.search<Task>('Task', { identifier: `${CONTRACT_SYSTEM}|${taskValue}` });
    expect(tasks.resources).toHaveLength(1);
    expect(tasks.resources[0]?.for?.reference).toBe(locationRef(patient1));
    expect(tasks.resources[0]?.meta?.versionId).toBe('1');
  });

  it('a new resource that references one matched by a conditional create points at the existing one', async () => {
    const patientValue = unique('tx-patient');
    const existing = await create(patient({ identifier: [identifier(patientValue)] }));
    const response = await ctx.store.transaction(conditionalBundle(patientValue, unique('tx-task')));
    const [taskEntry, patientEntry] = response.entry as [BundleEntry, BundleEntry];
    expect(patientEntry.response?.status).toMatch(/^200/);
    expect(taskEntry.response?.status).toMatch(/^201/);
    const stored = await ctx.store.read<Task>('Task', locationRef(taskEntry).split('/')[1] as string);
    expect(stored.for?.reference).toBe(referenceTo(existing));
  });

  it('If-Match in an entry: the current version updates', async () => {
    const v1 = await create(task());
    const response = await ctx.store.transaction({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: { ...v1, status: 'accepted' },
          request: { method: 'PUT', url: `Task/${v1.id}`, ifMatch: 'W/"1"' },
        },
      ],
    });
    expect(response.entry?.[0]?.response?.status).toMatch(/^200/);
    expect(response.entry?.[0]?.resource).toMatchObject({
      id: v1.id,
      status: 'accepted',
      meta: { versionId: '2' },
    });
    const current = await ctx.store.read<Task>('Task', v1.id);
    expect(current.status).toBe('accepted');
    expect(current.meta?.versionId).toBe('2');
  });

  it('If-Match in an entry: a stale version is 412 and nothing in the Bundle is stored', async () => {
    const v1 = await create(task());
    await ctx.store.update({ ...v1, status: 'accepted' }, { ifMatch: '1' });
    const bystander = unique('bystander');
    await expectOutcome(
      ctx.store.transaction({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: patient({ identifier: [identifier(bystander)] }),
            request: { method: 'POST', url: 'Patient' },
          },
          {
            resource: { ...v1, status: 'rejected' },
            request: { method: 'PUT', url: `Task/${v1.id}`, ifMatch: 'W/"1"' },
          },
        ],
      }),
      412,
    );
    const current = await ctx.store.read<Task>('Task', v1.id);
    expect(current.status).toBe('accepted');
    expect(current.meta?.versionId).toBe('2');
    expect((await ctx.store.search('Patient', { identifier: `${CONTRACT_SYSTEM}|${bystander}` })).resources).toEqual(
      [],
    );
  });

  it('If-Match in an entry that changes nothing: no new version; stale, it is 412 even with the current content', async () => {
    // How a write is made conditional on a resource it read staying as it was (the gateway's orders do
    // this with the Patient whose labels they checked): HAPI and the embedded store skip a no-op update.
    const v1 = await create(patient({ meta: { security: [{ system: CONTRACT_SYSTEM, code: 'org-a' }] } }));
    const asserting = (resource: Patient, version: string, bystander: string): Bundle => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: patient({ identifier: [identifier(bystander)] }), request: { method: 'POST', url: 'Patient' } },
        { resource, request: { method: 'PUT', url: `Patient/${v1.id}`, ifMatch: `W/"${version}"` } },
      ],
    });
    const response = await ctx.store.transaction(asserting(v1, '1', unique('bystander')));
    expect(response.entry?.[1]?.resource).toMatchObject({ id: v1.id, meta: { versionId: '1' } });
    expect((await ctx.store.history('Patient', v1.id)).map((v) => v.meta?.versionId)).toEqual(['1']);

    const v2 = await ctx.store.update({ ...v1, gender: 'female' }, { ifMatch: '1' });
    const late = unique('bystander');
    await expectOutcome(ctx.store.transaction(asserting(v2, '1', late)), 412);
    expect((await ctx.store.read<Patient>('Patient', v1.id)).meta?.versionId).toBe('2');
    expect((await ctx.store.search('Patient', { identifier: `${CONTRACT_SYSTEM}|${late}` })).resources).toEqual([]);
  });

  it('atomic: one failing entry (a conditional create with several matches) stores nothing', async () => {
    const twice = unique('twice');
    await create(patient({ identifier: [identifier(twice)] }));
    await create(patient({ identifier: [identifier(twice)] }));
    const bystander = unique('bystander');
    const target = await create(task());
    await expectOutcome(
      ctx.store.transaction({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: patient({ identifier: [identifier(bystander)] }),
            request: { method: 'POST', url: 'Patient' },
          },
          { resource: { ...target, status: 'cancelled' }, request: { method: 'PUT', url: `Task/${target.id}` } },
          {
            resource: patient({ identifier: [identifier(twice)] }),
            request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${CONTRACT_SYSTEM}|${twice}` },
          },
        ],
      }),
      412,
    );
    expect((await ctx.store.search('Patient', { identifier: `${CONTRACT_SYSTEM}|${bystander}` })).resources).toEqual(
      [],
    );
    expect((await ctx.store.search('Patient', { identifier: `${CONTRACT_SYSTEM}|${twice}` })).resources).toHaveLength(
      2,
    );
    const unchanged = await ctx.store.read<Task>('Task', target.id);
    expect(unchanged.status).toBe('requested');
    expect(unchanged.meta?.versionId).toBe('1');
  });
}

/** A transaction that fails in an entry run after others have written still stores nothing. */
export function transactionAtomicityAfterWritesTests(ctx: ContractContext): void {
  const { unique, identifier, task, patient, create } = ctx;

  it('atomic: an entry that fails after others were written (a conditional update with several matches) stores nothing', async () => {
    const twice = unique('twice');
    await create(patient({ identifier: [identifier(twice)], gender: 'female' }));
    await create(patient({ identifier: [identifier(twice)], gender: 'female' }));
    const bystander = unique('bystander');
    const target = await create(task());
    await expectOutcome(
      ctx.store.transaction({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: patient({ identifier: [identifier(bystander)] }),
            request: { method: 'POST', url: 'Patient' },
          },
          { resource: { ...target, status: 'cancelled' }, request: { method: 'PUT', url: `Task/${target.id}` } },
          {
            resource: patient({ identifier: [identifier(twice)], gender: 'male' }),
            request: {
              method: 'PUT',
              url: `Patient?identifier=${encodeURIComponent(`${CONTRACT_SYSTEM}|${twice}`)}`,
            },
          },
        ],
      }),
      412,
    );
    expect((await ctx.store.search('Patient', { identifier: `${CONTRACT_SYSTEM}|${bystander}` })).resources).toEqual(
      [],
    );
    const twins = await ctx.store.search<Patient>('Patient', { identifier: `${CONTRACT_SYSTEM}|${twice}` });
    expect(twins.resources.map((p) => p.gender)).toEqual(['female', 'female']);
    const unchanged = await ctx.store.read<Task>('Task', target.id);
    expect(unchanged.status).toBe('requested');
    expect(unchanged.meta?.versionId).toBe('1');
  });
}

/** `Type/id` of the resource a transaction-response entry carries. */
function entryRef(entry: BundleEntry): string {
  expect(entry.resource, 'a transaction-response entry that carries its resource').toBeDefined();
  return `${entry.resource?.resourceType}/${entry.resource?.id}`;
}

/** `Type/id` from a transaction-response entry's location (`Type/id/_history/n`). */
function locationRef(entry: BundleEntry): string {
  const m = /(?:^|\/)([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})\/_history\/[^/]+$/.exec(entry.response?.location ?? '');
  expect(m, `a location of the form Type/id/_history/n, not ${entry.response?.location}`).not.toBeNull();
  return (m as RegExpExecArray)[1] as string;
}
