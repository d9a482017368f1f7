import type { Patient, Task } from '@medplum/fhirtypes';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTRACT_SYSTEM, describeStoreContract, expectOutcome, ids } from '../contract/index.ts';
import { referenceTo } from '../helpers.ts';
import { SqliteStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'sqlite-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = (): string => join(dir, `store-${++files}.db`);

describeStoreContract('SqliteStore :memory:', async () => new SqliteStore({ path: ':memory:' }));
describeStoreContract('SqliteStore file', async () => new SqliteStore({ path: freshFile() }));

const task = (extra: Partial<Task> = {}): Task => ({
  resourceType: 'Task',
  status: 'requested',
  intent: 'order',
  ...extra,
});

describe('SqliteStore on disk', () => {
  it('keeps everything across close and reopen: resources, versions, deletions and the search indexes', async () => {
    const path = freshFile();
    const first = new SqliteStore({ path });
    const patient = (
      await first.create<Patient>({
        resourceType: 'Patient',
        identifier: [{ system: CONTRACT_SYSTEM, value: 'durable' }],
      })
    ).resource;
    const v1 = (await first.create(task({ for: { reference: referenceTo(patient) } }))).resource;
    const v2 = await first.update({ ...v1, status: 'accepted' }, { ifMatch: '1' });
    const doomed = (await first.create(task())).resource;
    await first.delete('Task', doomed.id);
    const tx = await first.transaction({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: task({ description: 'from a transaction' }), request: { method: 'POST', url: 'Task' } }],
    });
    await first.close();

    const reopened = new SqliteStore({ path });
    expect(await reopened.read<Task>('Task', v1.id)).toEqual(v2);
    expect((await reopened.history<Task>('Task', v1.id)).map((v) => v.status)).toEqual(['accepted', 'requested']);
    await expectOutcome(reopened.read('Task', doomed.id), 410);
    const byPatient = await reopened.search<Task>('Task', { subject: referenceTo(patient), status: 'accepted' });
    expect(ids(byPatient.resources)).toEqual([v1.id]);
    const byIdentifier = await reopened.search<Patient>('Patient', { identifier: `${CONTRACT_SYSTEM}|durable` });
    expect(ids(byIdentifier.resources)).toEqual([patient.id]);
    const txId = /^Task\/([^/]+)\//.exec(tx.entry?.[0]?.response?.location ?? '')?.[1] as string;
    expect((await reopened.read<Task>('Task', txId)).description).toBe('from a transaction');
    // ...and it goes on versioning from where it was
    expect((await reopened.update({ ...v2, status: 'completed' }, { ifMatch: '2' })).meta?.versionId).toBe('3');
    await reopened.close();
  });

  it("two stores on one file (two replicas) see each other's writes at once", async () => {
    const path = freshFile();
    const a = new SqliteStore({ path });
    const b = new SqliteStore({ path });
    const created = (await a.create(task())).resource;
    expect((await b.read<Task>('Task', created.id)).meta?.versionId).toBe('1');
    await b.update({ ...created, status: 'accepted' }, { ifMatch: '1' });
    expect((await a.read<Task>('Task', created.id)).status).toBe('accepted');
    await expectOutcome(a.update({ ...created, status: 'rejected' }, { ifMatch: '1' }), 412);
    await a.close();
    await b.close();
  });

  it('two replicas in two threads racing an ifMatch update of the version both read: one wins, the other gets 412', async () => {
    const path = freshFile();
    const setup = new SqliteStore({ path });
    const created = (await setup.create(task())).resource;
    await setup.close();
    const barrier = new SharedArrayBuffer(4);
    const race = (description: string): Promise<{ ok: boolean; status?: number; version?: string; read: string }> =>
      new Promise((resolve, reject) => {
        const worker = new Worker(new URL('./race-worker.ts', import.meta.url), {
          workerData: { path, id: created.id, description, barrier },
        });
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    const results = await Promise.all([race('replica one'), race('replica two')]);
    expect(results.map((r) => r.read)).toEqual(['1', '1']); // both read version 1 before either wrote
    const winners = results.filter((r) => r.ok);
    const losers = results.filter((r) => !r.ok);
    expect(winners).toHaveLength(1);
    expect(winners[0]?.version).toBe('2');
    expect(losers.map((r) => r.status)).toEqual([412]);
    const check = new SqliteStore({ path });
    const versions = await check.history<Task>('Task', created.id);
    expect(versions.map((v) => v.meta?.versionId)).toEqual(['2', '1']);
    await check.close();
  }, 60_000); // each thread loads the FHIR definitions (~2 s on two cores)
});

describe('SqliteStore query plans', () => {
  // The workflow's searches must be driven by the index tables: each match a rowid lookup into
  // `resource`, never a walk over `resource` (a SCAN, or a range over every resource of the type).
  const workflowSearches: [string, string, string][] = [
    ['identifier', 'Task', `identifier=${CONTRACT_SYSTEM}|x`],
    ['identifier without system', 'ServiceRequest', 'identifier=x'],
    ['owner + status', 'Task', 'owner=Organization/o1&status=requested,accepted'],
    [
      'owner:identifier + status',
      'Task',
      'owner:identifier=https://fhir.nhs.uk/Id/ods-organization-code|RM1&status=requested',
    ],
    ['focus', 'Task', 'focus=ServiceRequest/s1'],
    ['based-on', 'Task', 'based-on=ServiceRequest/s1'],
    ['based-on (DiagnosticReport)', 'DiagnosticReport', 'based-on=ServiceRequest/s1'],
    ['subject', 'Task', 'subject=Patient/p1'],
    ['patient', 'ServiceRequest', 'patient=p1'],
    ['authored-on range', 'Task', 'authored-on=ge2026-03-05&authored-on=lt2026-03-06'],
    ['owner + status, newest first', 'Task', 'owner=Organization/o1&status=requested&_sort=-_lastUpdated'],
    ['_lastUpdated', 'Task', '_lastUpdated=ge2026-01-01'],
  ];

  it.each(workflowSearches)('%s is driven by the index tables and never scans resource', async (_name, type, query) => {
    const store = new SqliteStore({ path: ':memory:' });
    for (let i = 0; i < 30; i++) {
      await store.create(
        task({ identifier: [{ system: CONTRACT_SYSTEM, value: `x${i}` }], for: { reference: `Patient/p${i % 3}` } }),
      );
    }
    const plan = store.explainSearch(type, query);
    expect(plan.some((step) => step.startsWith('SEARCH r USING INTEGER PRIMARY KEY'))).toBe(true);
    expect(plan.some((step) => /SEARCH idx_(token|reference|date|string) USING COVERING INDEX/.test(step))).toBe(true);
    expect(plan.filter((step) => step.startsWith('SCAN'))).toEqual([]);
    expect(plan.filter((step) => /SEARCH r USING (COVERING )?INDEX/.test(step))).toEqual([]);
    await store.close();
  });

  it('a date range (ge and lt on one parameter) is one index range, not two half-open scans', () => {
    const store = new SqliteStore({ path: ':memory:' });
    const plan = store.explainSearch('Task', 'authored-on=ge2026-03-05&authored-on=lt2026-03-06');
    // one idx_date step in the count query and one in the page query
    expect(plan.filter((step) => step.includes('idx_date'))).toHaveLength(2);
  });

  it('an _id search is an exact lookup on (type, id)', () => {
    const store = new SqliteStore({ path: ':memory:' });
    const plan = store.explainSearch('Task', '_id=a,b&status=requested');
    expect(plan.every((step) => !step.startsWith('SCAN'))).toBe(true);
    expect(plan.some((step) => /SEARCH r USING INDEX sqlite_autoindex_resource_1 \(type=\? AND id=\?/.test(step))).toBe(
      true,
    );
  });
});

describe('SqliteStore clock', () => {
  it('stamps lastUpdated from the injected clock', async () => {
    const store = new SqliteStore({ path: ':memory:', clock: { now: () => new Date('2026-03-05T10:00:00.000Z') } });
    const created = (await store.create(task())).resource;
    expect(created.meta?.lastUpdated).toBe('2026-03-05T10:00:00.000Z');
    const found = await store.search<Task>('Task', { _lastUpdated: 'eq2026-03-05', _id: created.id });
    expect(ids(found.resources)).toEqual([created.id]);
  });

  it('keeps lastUpdated strictly increasing in write order, even when the clock stands still or goes back', async () => {
    let now = Date.parse('2026-03-05T10:00:00.000Z');
    const store = new SqliteStore({ path: ':memory:', clock: { now: () => new Date(now) } });
    const a = (await store.create(task())).resource;
    const b = (await store.create(task())).resource;
    now -= 60_000;
    const a2 = await store.update({ ...a, status: 'accepted' });
    expect(a.meta?.lastUpdated).toBe('2026-03-05T10:00:00.000Z');
    expect(b.meta?.lastUpdated).toBe('2026-03-05T10:00:00.001Z');
    expect(a2.meta?.lastUpdated).toBe('2026-03-05T10:00:00.002Z');
    const newestFirst = await store.search<Task>('Task', { _id: `${a.id},${b.id}`, _sort: '-_lastUpdated' });
    expect(newestFirst.resources.map((t) => t.id)).toEqual([a.id, b.id]);
  });
});

describe('SqliteStore _total', () => {
  async function fiveTasks() {
    const store = new SqliteStore({ path: ':memory:' });
    for (let i = 0; i < 5; i++)
      await store.create({
        resourceType: 'Task',
        status: 'requested',
        intent: 'order',
        identifier: [{ system: 'urn:t', value: 'five' }],
      });
    return store;
  }

  it('counts every match by default', async () => {
    const page = await (await fiveTasks()).search('Task', { identifier: 'urn:t|five', _count: '2' });
    expect(page.total).toBe(5);
    expect(page.resources).toHaveLength(2);
  });

  it('with _total=none counts nothing, yet knows whether there is a next page, and never ends on an empty one', async () => {
    const store = await fiveTasks();
    const sizes: number[] = [];
    let page = await store.search('Task', { identifier: 'urn:t|five', _count: '5', _total: 'none' });
    sizes.push(page.resources.length);
    expect(page.total).toBeUndefined();
    expect(page.next).toBeUndefined(); // exactly one full page
    page = await store.search('Task', { identifier: 'urn:t|five', _count: '2', _total: 'none' });
    sizes.length = 0;
    sizes.push(page.resources.length);
    while (page.next) {
      page = await store.nextPage(page.next);
      expect(page.total).toBeUndefined();
      sizes.push(page.resources.length);
    }
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('rejects an unknown _total with 400', async () => {
    await expectOutcome((await fiveTasks()).search('Task', { _total: 'some' }), 400);
  });
});
