import type { Patient, Task } from '@medplum/fhirtypes';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTRACT_SYSTEM, describeStoreContract, expectOutcome, ids } from '../contract/index.ts';
import type { WithId } from '../port.ts';
import { referenceTo, searchAll } from '../helpers.ts';
import { CANONICAL_BASE } from '../../systems.ts';
import { SCHEMA_VERSION } from './schema.ts';
import type { IndexPolicy } from './index-policy.ts';
import { SqliteStore } from './sqlite-store.ts';
import { TOTAL_LOOKAHEAD } from './sync-store.ts';

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

  it('keeps a transaction it has answered when its process is then killed (SIGKILL): both entries, read back', async () => {
    const path = freshFile();
    // A gateway's write as it answers 201: the order's Task and its outbox entry, in one transaction.
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [task({ description: 'the order' }), task({ description: 'its delivery' })].map((resource) => ({
        resource,
        request: { method: 'POST', url: 'Task' },
      })),
    };
    const script = `
      import { SqliteStore } from ${JSON.stringify(new URL('./sqlite-store.ts', import.meta.url).href)};
      const store = new SqliteStore({ path: process.env.STORE_FILE });
      const answer = await store.transaction(${JSON.stringify(bundle)});
      console.log(JSON.stringify(answer.entry.map((e) => e.response.location)));
      setInterval(() => {}, 60_000); // answered and never closed: it waits to be killed
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, STORE_FILE: path },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(child, 'exit');
    const [answer] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    child.kill('SIGKILL');
    await exited;
    expect(child.signalCode).toBe('SIGKILL');

    const locations = JSON.parse(answer) as string[];
    expect(locations).toHaveLength(2);
    const reopened = new SqliteStore({ path });
    const descriptions: (string | undefined)[] = [];
    for (const location of locations) {
      const id = /^Task\/([^/]+)\//.exec(location)?.[1] as string;
      descriptions.push((await reopened.read<Task>('Task', id)).description);
    }
    expect(descriptions).toEqual(['the order', 'its delivery']);
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
  const owned = (org: string, status: Task['status']) => task({ status, owner: { reference: `Organization/${org}` } });

  // Every way of listing a workflow search's matches is one index range in the order of the page (so the
  // search stops at the end of it), with one seek per other parameter: never a walk over a table, never
  // a sort, and no list gathered in full.
  const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
  const TASK_CODE = `${CANONICAL_BASE}/CodeSystem/task-code`;
  const access = `_security=${CANONICAL_BASE}/CodeSystem/organisation-access|RM1`;
  const workflowSearches: [string, string, string][] = [
    ['identifier', 'Task', `identifier=${CONTRACT_SYSTEM}|x`],
    ['identifier + _security (as the gateway searches)', 'Task', `identifier=${CONTRACT_SYSTEM}|x&${access}`],
    ['identifier without system', 'ServiceRequest', 'identifier=x'],
    ['owner + status', 'Task', 'owner=Organization/o1&status=requested,accepted'],
    [
      'work queue: owner:identifier + status + _security',
      'Task',
      `owner:identifier=${ODS}|RM1&status=requested,received&${access}`,
    ],
    [
      'RIS poll: status + code + _security, oldest first',
      'Task',
      `status=requested&code=${TASK_CODE}|fulfil&_sort=_lastUpdated&${access}`,
    ],
    [
      'delivery poll',
      'Task',
      `code=${TASK_CODE}|deliver-message,${TASK_CODE}|register-pointer&status=requested,in-progress&_count=100&_total=none`,
    ],
    ['focus', 'Task', 'focus=ServiceRequest/s1'],
    ['focus + code + _security (the referrer)', 'Task', `focus=ServiceRequest/s1&code=${TASK_CODE}|fulfil&${access}`],
    ['based-on', 'Task', 'based-on=ServiceRequest/s1'],
    ['based-on (DiagnosticReport)', 'DiagnosticReport', 'based-on=ServiceRequest/s1'],
    ['subject', 'Task', 'subject=Patient/p1'],
    ['patient', 'ServiceRequest', 'patient=p1'],
    ['owner + status, newest first', 'Task', 'owner=Organization/o1&status=requested&_sort=-_lastUpdated'],
  ];

  it.each(workflowSearches)('%s: an index range in page order, one seek per other parameter', (_name, type, query) => {
    const store = new SqliteStore({ path: ':memory:' });
    const { candidates, page } = store.explainSearch(type, query);
    const parameters = new URLSearchParams(query);
    const filters = [...parameters.keys()].filter((key) => !key.startsWith('_') || key === '_security');
    // every filter parameter can drive
    expect(candidates.map((c) => c.driver).sort()).toEqual(filters.map((key) => key.split(':')[0]).sort());
    const range =
      /^SEARCH m USING COVERING INDEX idx_(token|reference)_\w+ \(type=\? AND param=\? AND (code|target|target_id)=\?/;
    for (const { plan, spans } of candidates) {
      const steps = plan.filter((step) => /^(SEARCH|SCAN)/.test(step));
      const arms = steps.filter((step) => step.startsWith('SEARCH m '));
      const seeks = steps.filter((step) => step.startsWith('SEARCH f '));
      expect(arms.length).toBeGreaterThan(0);
      // read inside the window where every match lies: pk order, or lastUpdated order for _sort
      for (const arm of arms) {
        expect(arm).toMatch(range);
        expect(arm).toMatch(/ AND (pk>\? AND pk<\?|last_updated>\? AND last_updated<\?)\)$/);
      }
      // the window: the first and last key of each value's range, one seek each
      expect(spans.filter((step) => step.startsWith('SEARCH'))).toHaveLength(2 * arms.length);
      for (const step of spans.filter((s) => /^(SEARCH|SCAN)/.test(s) && s !== 'SCAN CONSTANT ROW'))
        expect(step).toMatch(range);
      expect(seeks).toHaveLength(arms.length * (filters.length - 1));
      for (const seek of seeks)
        expect(seek).toMatch(/^SEARCH f USING COVERING INDEX idx_\w+_resource \(pk=\? AND param=\?/);
      expect(steps).toHaveLength(arms.length + seeks.length);
      expect(plan.filter((step) => step.includes('TEMP B-TREE'))).toEqual([]);
    }
    // the page is read by rowid from the list of its pks
    expect(page.filter((step) => step.startsWith('SEARCH'))).toEqual([
      'SEARCH resource USING INTEGER PRIMARY KEY (rowid=?)',
    ]);
    expect(page.filter((step) => step.startsWith('SCAN') && !step.startsWith('SCAN json_each'))).toEqual([]);
  });

  it('reads what is pending, not the history: a busy owner’s completed Tasks are skipped whichever parameter drives', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    for (let i = 0; i < 40; i++) await store.create(owned('busy', 'completed'));
    const pending = await createEach(3, () => owned('busy', 'requested'));
    await createEach(20, () => owned('other', 'requested'));

    const busy = 'owner=Organization/busy&status=requested';
    expect(ids((await store.search<Task>('Task', busy)).resources)).toEqual(ids(pending));
    // both lists are read from the first requested Task on: a few rows each, none of the 40 completed
    expect(store.explainSearch('Task', busy).rowsRead).toBeLessThanOrEqual(2 * (pending.length + 1));

    async function createEach(n: number, make: () => Task) {
      const out: WithId<Task>[] = [];
      for (let i = 0; i < n; i++) out.push((await store.create(make())).resource);
      return out;
    }
  });

  it('when every list spans the history (a Task left requested long ago), the shorter list answers the race', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.create(owned('other', 'requested')); // stuck since the beginning
    await store.create(owned('quiet', 'completed'));
    for (let i = 0; i < 40; i++) await store.create(owned('busy', 'completed'));
    const busyPending: string[] = [];
    for (let i = 0; i < 3; i++) busyPending.push((await store.create(owned('busy', 'requested'))).resource.id);
    for (let i = 0; i < 20; i++) await store.create(owned('other', 'requested'));
    const quietPending = (await store.create(owned('quiet', 'requested'))).resource.id;

    const busy = 'owner=Organization/busy&status=requested';
    expect(store.explainSearch('Task', busy).drivenBy).toBe('status');
    expect(ids((await store.search<Task>('Task', busy)).resources)).toEqual([...busyPending].sort());
    const quiet = 'owner=Organization/quiet&status=requested';
    expect(store.explainSearch('Task', quiet).drivenBy).toBe('owner');
    expect(ids((await store.search<Task>('Task', quiet)).resources)).toEqual([quietPending]);
  });

  it('a search whose lists do not overlap reads nothing', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.create(owned('early', 'completed'));
    await store.create(owned('late', 'requested'));
    const explained = store.explainSearch('Task', 'owner=Organization/early&status=requested');
    expect(explained.rowsRead).toBe(0);
    expect((await store.search<Task>('Task', 'owner=Organization/early&status=requested')).total).toBe(0);
  });

  it('a resource matching two values of the driving parameter is found once', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const coding = (code: string) => ({ system: 'urn:codes', code });
    const both = (await store.create(task({ code: { coding: [coding('a'), coding('b'), coding('b')] } }))).resource;
    const one = (await store.create(task({ code: { coding: [coding('b')] } }))).resource;
    for (const sort of ['', '&_sort=_lastUpdated', '&_sort=-_lastUpdated']) {
      const page = await store.search<Task>('Task', `code=urn:codes|a,urn:codes|b${sort}`);
      expect(page.resources.map((t) => t.id).sort()).toEqual(ids([both, one]));
      expect(page.total).toBe(2);
    }
  });

  it('a date range (ge and lt on one parameter) is one index range, not two half-open scans', () => {
    const store = new SqliteStore({ path: ':memory:' });
    const { candidates } = store.explainSearch('Task', 'authored-on=ge2026-03-05&authored-on=lt2026-03-06');
    expect(candidates.flatMap((c) => c.plan).filter((step) => step.includes('idx_date'))).toHaveLength(1);
  });

  it("an _include reads the page's own index rows, one seek per match, never its parameter's whole list", () => {
    const store = new SqliteStore({ path: ':memory:' });
    const { includes } = store.explainSearch('Task', 'status=requested&_include=Task:focus&_include=Task:patient');
    expect(includes).toHaveLength(2);
    for (const plan of includes) {
      expect(plan).toContain('SEARCH idx_reference USING COVERING INDEX idx_reference_resource (pk=? AND param=?)');
      expect(plan.filter((step) => /^SCAN|idx_reference_target/.test(step))).toEqual([]);
    }
  });

  it('an _id search is an exact lookup on (type, id) and drives when it reads least', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    for (let i = 0; i < 5; i++) await store.create(task());
    const wanted = (await store.create(task())).resource;
    const explained = store.explainSearch('Task', `_id=${wanted.id},b&status=requested`);
    const byId = explained.candidates.find((c) => c.driver === '_id');
    expect(byId?.plan).toContain('SEARCH m USING INDEX sqlite_autoindex_resource_1 (type=? AND id=?)');
    expect(explained.drivenBy).toBe('_id');
    expect(explained.candidates.flatMap((c) => c.plan).filter((step) => step.startsWith('SCAN'))).toEqual([]);
  });

  it('a _sort no index lists: index ranges find the matches, then only the matches are sorted, one seek per key', () => {
    const store = new SqliteStore({ path: ':memory:' });
    const { candidates, order } = store.explainSearch(
      'Task',
      'owner=Organization/o1&status=requested&_sort=-authored-on,status',
    );
    expect(candidates.map((c) => c.driver).sort()).toEqual(['owner', 'status']);
    for (const { plan } of candidates) {
      expect(plan[0]).toMatch(/^SEARCH m USING COVERING INDEX idx_(token|reference)_\w+ \(type=\? AND param=\?/);
      expect(plan.filter((step) => step.includes('TEMP B-TREE') || step.startsWith('SCAN'))).toEqual([]);
    }
    const steps = (order ?? []).filter((step) => /^(SEARCH|SCAN|USE TEMP)/.test(step));
    expect(steps).toEqual([
      'SEARCH m USING INTEGER PRIMARY KEY (rowid=?)',
      'SCAN json_each VIRTUAL TABLE INDEX 1:',
      'SEARCH s USING COVERING INDEX idx_date_resource (pk=? AND param=?)',
      'SEARCH s USING COVERING INDEX idx_token_resource (pk=? AND param=?)',
      'USE TEMP B-TREE FOR ORDER BY',
    ]);
    expect(store.explainSearch('Task', 'owner=Organization/o1&_sort=-_lastUpdated').order).toBeUndefined();
  });
});

describe("SqliteStore a short date range beside a token (the safety job's due Tasks)", () => {
  // As the safety job asks: `next-check=le<now>` beside a code that every watch of the region has. Few are
  // due, and the code lists every watch ever made: the date range must be able to answer.
  const SYSTEM = `${CANONICAL_BASE}/CodeSystem/task-code`;
  const CODE = `${SYSTEM}|watch`;

  /** 303 watches, 3 of them due, spread among the rest so that the code's list reaches them only by reading past them. */
  const seeded = async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const ids: string[] = [];
    for (let i = 0; i < 303; i++) {
      const isDue = i % 101 === 0;
      const authoredOn = isDue ? '2026-01-05T09:30:00Z' : '2027-01-05T09:30:00Z';
      const { resource } = await store.create(
        task({ authoredOn, code: { coding: [{ system: SYSTEM, code: 'watch' }] } }),
      );
      if (isDue) ids.push(resource.id);
    }
    return { store, ids };
  };

  it('drives from the date range when it is short: reads only the due Tasks, and answers as the code would', async () => {
    const { store, ids } = await seeded();
    const query = `code=${CODE}&authored-on=le2026-06-01&_count=2`;
    const explained = store.explainSearch('Task', query);
    expect(explained.candidates.map((c) => c.driver)).toEqual(['authored-on', 'code']);
    expect(explained.drivenBy).toBe('authored-on');
    expect(explained.rowsRead).toBeLessThanOrEqual(2 * 3);
    // Counting the range reads its index, and no further than the limit (the scan is of that LIMITed list).
    expect(explained.rangeCounts).toEqual([
      [
        'CO-ROUTINE (subquery-1)',
        expect.stringMatching(/^SEARCH m USING COVERING INDEX idx_date_lo \(type=\? AND param=\? AND lo<\?\)$/),
        'SCAN (subquery-1)',
      ],
    ]);
    // The same pages, in pk order, as reading every watch by its code.
    const first = await store.search<Task>('Task', query);
    expect(first.resources.map((t) => t.id)).toEqual(ids.slice(0, 2));
    expect(
      (await searchAll<Task>(store, 'Task', { code: CODE, 'authored-on': 'le2026-06-01' })).map((t) => t.id),
    ).toEqual(ids);
    await store.close();
  });

  it('leaves a long date range out of the race, so that it is never gathered in full', async () => {
    const { store } = await seeded();
    const explained = store.explainSearch('Task', `code=${CODE}&authored-on=le2028-01-01&_count=2&_total=none`);
    expect(explained.candidates.map((c) => c.driver)).toEqual(['code']);
    expect(explained.rangeCounts).toHaveLength(1);
    expect(explained.rowsRead).toBeLessThanOrEqual(3);
    // Nothing due at all: answered from the date range without reading the code's 303 rows.
    const none = store.explainSearch('Task', `code=${CODE}&authored-on=le2025-01-01`);
    expect(none.drivenBy).toBe('authored-on');
    expect(none.rowsRead).toBe(0);
    expect((await store.search('Task', `code=${CODE}&authored-on=le2025-01-01`)).resources).toEqual([]);
    await store.close();
  });
});

describe('SqliteStore _sort', () => {
  it('sorts several values by the lowest ascending and the highest descending, tokens by system then code, none last', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const coded = async (...codings: [string, string][]) =>
      (
        await store.create(
          task(codings.length ? { code: { coding: codings.map(([system, code]) => ({ system, code })) } } : {}),
        )
      ).resource.id;
    const none = await coded();
    const by = await coded(['urn:s', 'b'], ['urn:s', 'y']);
    const m = await coded(['urn:s', 'm']);
    const otherSystem = await coded(['urn:a', 'z']);
    const mAgain = await coded(['urn:s', 'm']);
    const sorted = async (sort: string, count = '10') => {
      const seen: string[] = [];
      let page = await store.search<Task>('Task', { _sort: sort, _count: count });
      seen.push(...page.resources.map((t) => t.id));
      while (page.next) {
        page = await store.nextPage<Task>(page.next);
        seen.push(...page.resources.map((t) => t.id));
      }
      return seen;
    };
    expect(await sorted('code')).toEqual([otherSystem, by, m, mAgain, none]);
    expect(await sorted('-code')).toEqual([by, m, mAgain, otherSystem, none]);
    expect(await sorted('-code', '2')).toEqual([by, m, mAgain, otherSystem, none]);
  });
});

describe('SqliteStore versions', () => {
  /** The versions resource_version holds for a resource, as `version deleted`. */
  function keptVersions(path: string, id: string): string[] {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return db
        .prepare(
          'SELECT v.version, v.deleted FROM resource_version v JOIN resource r ON r.pk = v.pk WHERE r.id = ? ORDER BY v.version',
        )
        .all(id)
        .map((row) => `${row.version} ${row.deleted}`);
    } finally {
      db.close();
    }
  }
  const versionsOf = (tasks: Task[]) => tasks.map((t) => `${t.meta?.versionId} ${t.description ?? ''}`);

  it('keeps every version but the current one in resource_version: a create writes its content once', async () => {
    const path = freshFile();
    const store = new SqliteStore({ path });
    const created = (await store.create(task({ description: 'one' }))).resource;
    expect(keptVersions(path, created.id)).toEqual([]);
    const updated = await store.update({ ...created, description: 'two' });
    expect(keptVersions(path, created.id)).toEqual(['1 0']);
    expect(versionsOf(await store.history<Task>('Task', created.id))).toEqual(['2 two', '1 one']);
    await store.delete('Task', created.id);
    expect(keptVersions(path, created.id)).toEqual(['1 0', '2 0']);
    expect(versionsOf(await store.history<Task>('Task', created.id))).toEqual(['2 two', '1 one']);
    await store.update({ ...updated, description: 'four' });
    expect(keptVersions(path, created.id)).toEqual(['1 0', '2 0', '3 1']);
    expect(versionsOf(await store.history<Task>('Task', created.id))).toEqual(['4 four', '2 two', '1 one']);
    await store.close();
  });

  it('reads and extends a file that also kept the current version in resource_version, without listing it twice', async () => {
    const path = freshFile();
    const store = new SqliteStore({ path });
    const created = (await store.create(task({ description: 'one' }))).resource;
    const updated = await store.update({ ...created, description: 'two' });
    await store.close();
    // As every version was kept before: the current one in resource_version too.
    const db = new DatabaseSync(path);
    db.exec(
      'INSERT INTO resource_version (pk, version, last_updated, deleted, content) SELECT pk, version, last_updated, deleted, content FROM resource',
    );
    db.close();
    expect(keptVersions(path, created.id)).toEqual(['1 0', '2 0']);

    const reopened = new SqliteStore({ path });
    expect(versionsOf(await reopened.history<Task>('Task', created.id))).toEqual(['2 two', '1 one']);
    await reopened.update({ ...updated, description: 'three' });
    expect(versionsOf(await reopened.history<Task>('Task', created.id))).toEqual(['3 three', '2 two', '1 one']);
    await reopened.delete('Task', created.id);
    expect(versionsOf(await reopened.history<Task>('Task', created.id))).toEqual(['3 three', '2 two', '1 one']);
    await reopened.close();
  });
});

describe('SqliteStore schema', () => {
  it('brings a file of the first layout up to date when it opens it: index rows get lastUpdated, new indexes replace old', async () => {
    const path = freshFile();
    const first = new SqliteStore({ path });
    const a = (await first.create(task({ status: 'requested' }))).resource;
    const b = (await first.create(task({ status: 'requested' }))).resource;
    const a2 = await first.update({ ...a, description: 'touched last' });
    await first.close();
    downgradeToFirstLayout(path);

    const reopened = new SqliteStore({ path });
    const newest = await reopened.search<Task>('Task', { status: 'requested', _sort: '-_lastUpdated' });
    expect(newest.resources.map((t) => t.id)).toEqual([a2.id, b.id]);
    const { candidates } = reopened.explainSearch('Task', 'status=requested&_sort=-_lastUpdated');
    expect(candidates[0]?.plan[0]).toMatch(/USING COVERING INDEX idx_token_updated/);
    await reopened.close();
    const { indexes, version } = layoutOf(path);
    expect(indexes).not.toContain('idx_token_lookup');
    expect(indexes).toContain('idx_token_resource');
    expect(version).toBe(SCHEMA_VERSION);
  });

  it('drops the index of reference target ids from a file of version 2, and bare-id searches still find', async () => {
    const path = freshFile();
    const first = new SqliteStore({ path });
    const owned = (await first.create(task({ owner: { reference: 'Organization/o1' } }))).resource;
    await first.close();
    const db = new DatabaseSync(path);
    db.exec('CREATE INDEX idx_reference_id ON idx_reference (type, param, target_id, pk); PRAGMA user_version = 2;');
    db.close();

    const reopened = new SqliteStore({ path });
    expect((await reopened.search<Task>('Task', { owner: 'o1' })).resources.map((t) => t.id)).toEqual([owned.id]);
    await reopened.close();
    const { indexes, version } = layoutOf(path);
    expect(indexes).not.toContain('idx_reference_id');
    expect(version).toBe(3);
  });
});

describe('SqliteStore bare-id reference searches (no index of target ids)', () => {
  const ref = (reference: string) => ({ reference });

  it('finds a bare id under each of a few-typed parameter’s types, one index range each, and not under other types', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const byOrg = (await store.create(task({ owner: ref('Organization/o1') }))).resource;
    const byPractitioner = (await store.create(task({ owner: ref('Practitioner/o1') }))).resource;
    await store.create(task({ owner: ref('Organization/o2') }));
    const found = await store.search<Task>('Task', { owner: 'o1' });
    expect(found.resources.map((t) => t.id).sort()).toEqual([byOrg.id, byPractitioner.id].sort());
    // a bare id of the one-typed `patient`: one range, `target = 'Patient/<id>'`
    const patientOf = (await store.create(task({ for: ref('Patient/p1') }))).resource;
    await store.create(task({ for: ref('Patient/p2') }));
    expect((await store.search<Task>('Task', { patient: 'p1' })).resources.map((t) => t.id)).toEqual([patientOf.id]);
    const { candidates } = store.explainSearch('Task', 'owner=o1');
    const arms = candidates[0]?.plan.filter((step) => step.startsWith('SEARCH m ')) ?? [];
    expect(arms.length).toBe(8); // Task.owner: Practitioner, Organization, CareTeam, Device, Patient, …
    for (const arm of arms)
      expect(arm).toMatch(/USING COVERING INDEX idx_reference_target \(type=\? AND param=\? AND target=\?/);
  });

  it('finds a bare id of a parameter that may point at any resource from its rows, and with :not leaves it out', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const onOrder = (await store.create(task({ focus: ref('ServiceRequest/s1') }))).resource;
    const onReport = (await store.create(task({ focus: ref('DiagnosticReport/s1') }))).resource;
    const other = (await store.create(task({ focus: ref('ServiceRequest/s2') }))).resource;
    const found = await store.search<Task>('Task', { focus: 's1' });
    expect(found.resources.map((t) => t.id).sort()).toEqual([onOrder.id, onReport.id].sort());
    const not = await store.search<Task>('Task', { 'focus:not': 's1' });
    expect(not.resources.map((t) => t.id)).toEqual([other.id]);
  });
});

/** A closed file's indexes and PRAGMA user_version, as the next open finds them. */
function layoutOf(path: string): { indexes: unknown[]; version: unknown } {
  const db = new DatabaseSync(path);
  try {
    const indexes = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'index'")
      .all()
      .map((r) => r.name);
    return { indexes, version: db.prepare('PRAGMA user_version').get()?.user_version };
  } finally {
    db.close();
  }
}

/** Turns a file back into the first layout (user_version 0): no lastUpdated on index rows, the old indexes. */
function downgradeToFirstLayout(path: string): void {
  const db = new DatabaseSync(path);
  for (const index of [
    'idx_token_value',
    'idx_token_updated',
    'idx_token_resource',
    'idx_reference_updated',
    'idx_reference_resource',
    'idx_date_resource',
    'idx_string_resource',
  ])
    db.exec(`DROP INDEX ${index}`);
  db.exec(`
    ALTER TABLE idx_token DROP COLUMN last_updated;
    ALTER TABLE idx_reference DROP COLUMN last_updated;
    CREATE INDEX idx_token_lookup ON idx_token (type, param, code, system, pk);
    CREATE INDEX idx_token_pk ON idx_token (pk);
    CREATE INDEX idx_reference_pk ON idx_reference (pk);
    CREATE INDEX idx_date_pk ON idx_date (pk);
    CREATE INDEX idx_string_pk ON idx_string (pk);
    PRAGMA user_version = 0;
  `);
  db.close();
}

describe('SqliteStore index rows', () => {
  /** A resource's index rows as stored, each with its rowid, in one order; `now` for a lastUpdated that is the resource's. */
  function storedRows(path: string, resource: WithId<Task | Patient>) {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      const pk = db.prepare('SELECT pk FROM resource WHERE type = ? AND id = ?').get(resource.resourceType, resource.id)
        ?.pk as number;
      const stamp = (row: Record<string, unknown>) =>
        row.last_updated === resource.meta?.lastUpdated ? 'now' : String(row.last_updated);
      const rows = [
        ...db
          .prepare('SELECT rowid, param, system, code, last_updated FROM idx_token WHERE pk = ?')
          .all(pk)
          .map((r) => ({ rowid: r.rowid, row: `token ${r.param} ${r.system}|${r.code} ${stamp(r)}` })),
        ...db
          .prepare('SELECT rowid, param, target, target_id, last_updated FROM idx_reference WHERE pk = ?')
          .all(pk)
          .map((r) => ({ rowid: r.rowid, row: `reference ${r.param} ${r.target} ${r.target_id} ${stamp(r)}` })),
        ...db
          .prepare('SELECT rowid, param, lo, hi FROM idx_date WHERE pk = ?')
          .all(pk)
          .map((r) => ({ rowid: r.rowid, row: `date ${r.param} ${r.lo} ${r.hi}` })),
        ...db
          .prepare('SELECT rowid, param, value, value_lower FROM idx_string WHERE pk = ?')
          .all(pk)
          .map((r) => ({ rowid: r.rowid, row: `string ${r.param} ${r.value} ${r.value_lower}` })),
      ];
      return rows.sort((a, b) => (a.row < b.row ? -1 : a.row > b.row ? 1 : 0));
    } finally {
      db.close();
    }
  }

  /** The rows the same content gets when it is written afresh, at the same time, into a store of its own. */
  async function freshRows<T extends Task | Patient>(content: WithId<T>, indexPolicy?: IndexPolicy) {
    const path = freshFile();
    const now = () => new Date(content.meta?.lastUpdated as string);
    const store = new SqliteStore({ path, clock: { now }, ...(indexPolicy ? { indexPolicy } : {}) });
    const { meta: _meta, ...rest } = content;
    const created = await store.update(rest as WithId<T>); // a create, with the same id
    await store.close();
    return storedRows(path, created).map((r) => r.row);
  }

  it('an update leaves the rows a fresh write of the new content would, rewriting only those that changed', async () => {
    const path = freshFile();
    const store = new SqliteStore({ path });
    const identifier = { system: CONTRACT_SYSTEM, value: 'rows' };
    let current = (
      await store.create(
        task({
          identifier: [identifier, identifier], // the same row twice
          authoredOn: '2026-01-05T09:30:00Z',
          for: { reference: 'Patient/p1' },
          owner: { reference: 'Organization/o1' },
        }),
      )
    ).resource;
    const steps: Partial<Task>[] = [
      { status: 'accepted', lastModified: '2026-01-05T10:00:00Z' },
      { identifier: [identifier] }, // one of the two equal rows goes
      { identifier: [identifier, { system: CONTRACT_SYSTEM, value: 'second' }], owner: undefined },
      { for: { reference: 'Patient/p2' }, authoredOn: '2026-01-06' },
      { description: 'indexed nowhere: every row stays, stamped with the new lastUpdated' },
    ];
    for (const step of steps) {
      const before = storedRows(path, current);
      current = await store.update({ ...current, ...step });
      const after = storedRows(path, current);
      expect(after.map((r) => r.row)).toEqual(await freshRows(current));
      // a row whose content stayed is the same row: only what changed was deleted and inserted
      const unchanged = (r: { row: string }) => r.row.replace(/ \S+$/, '');
      const kept = before.filter((b) => after.some((a) => unchanged(a) === unchanged(b) && a.rowid === b.rowid));
      const stayed = after.filter((a) => before.some((b) => unchanged(a) === unchanged(b)));
      expect(kept.length).toBe(stayed.length);
    }
    await store.close();
  });

  it('a deleted resource has no rows, and its next version gets them all again; string rows follow a changed name', async () => {
    const path = freshFile();
    // Every parameter indexed: the project's policy indexes no Patient name.
    const everyParameter: IndexPolicy = {};
    const store = new SqliteStore({ path, indexPolicy: everyParameter });
    const patient = (await store.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Ash', given: ['A'] }] }))
      .resource;
    const renamed = await store.update({ ...patient, name: [{ family: 'Birch', given: ['A'] }] });
    expect(storedRows(path, renamed).map((r) => r.row)).toEqual(await freshRows(renamed, everyParameter));
    await store.delete('Patient', patient.id);
    expect(storedRows(path, renamed)).toEqual([]);
    const restored = await store.update({ ...renamed, name: [{ family: 'Cedar' }] });
    expect(storedRows(path, restored).map((r) => r.row)).toEqual(await freshRows(restored, everyParameter));
    expect((await store.search('Patient', { family: 'cedar' })).resources.map((p) => p.id)).toEqual([patient.id]);
    expect((await store.search('Patient', { family: 'birch' })).resources).toEqual([]);
    await store.close();
  });

  it('an update that changes no indexed value still moves the resource in _sort=_lastUpdated', async () => {
    const store = new SqliteStore({ path: freshFile() });
    const a = (await store.create(task({ owner: { reference: 'Organization/o1' } }))).resource;
    const b = (await store.create(task({ owner: { reference: 'Organization/o1' } }))).resource;
    await store.update({ ...a, description: 'touched last' });
    const oldest = await store.search<Task>('Task', { status: 'requested', _sort: '_lastUpdated' });
    expect(oldest.resources.map((t) => t.id)).toEqual([b.id, a.id]);
    const newest = await store.search<Task>('Task', { owner: 'Organization/o1', _sort: '-_lastUpdated' });
    expect(newest.resources.map((t) => t.id)).toEqual([a.id, b.id]);
    await store.close();
  });

  it('an update whose content is the same in another key order, or with undefined members, makes no version', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const created = (
      await store.create(task({ code: { coding: [{ system: 'urn:c', code: 'x' }] }, description: 'same' }))
    ).resource;
    const reordered = {
      description: 'same',
      code: { coding: [{ code: 'x', system: 'urn:c', display: undefined }] },
      intent: 'order',
      status: 'requested',
      resourceType: 'Task',
      id: created.id,
      meta: { versionId: '7', lastUpdated: '2000-01-01T00:00:00Z' },
      note: undefined,
    } as WithId<Task>;
    expect((await store.update(reordered)).meta?.versionId).toBe('1');
    const deeper = await store.update({ ...created, code: { coding: [{ system: 'urn:c', code: 'y' }] } });
    expect(deeper.meta?.versionId).toBe('2');
    const labelled = await store.update({ ...deeper, meta: { ...deeper.meta, security: [{ code: 'x' }] } });
    expect(labelled.meta?.versionId).toBe('3');
  });
});

describe('SqliteStore clock', () => {
  it('stamps lastUpdated from the injected clock', async () => {
    const store = new SqliteStore({ path: ':memory:', clock: { now: () => new Date('2026-03-05T10:00:00.000Z') } });
    const created = (await store.create(task())).resource;
    expect(created.meta?.lastUpdated).toBe('2026-03-05T10:00:00.000000Z');
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
    expect(a.meta?.lastUpdated).toBe('2026-03-05T10:00:00.000000Z');
    expect(b.meta?.lastUpdated).toBe('2026-03-05T10:00:00.000001Z');
    expect(a2.meta?.lastUpdated).toBe('2026-03-05T10:00:00.000002Z');
    const newestFirst = await store.search<Task>('Task', { _id: `${a.id},${b.id}`, _sort: '-_lastUpdated' });
    expect(newestFirst.resources.map((t) => t.id)).toEqual([a.id, b.id]);
  });

  it('keeps that order without running ahead of the clock: 2,000 writes in one millisecond stay in it', async () => {
    const at = Date.parse('2026-03-05T10:00:00.000Z');
    const store = new SqliteStore({ path: ':memory:', clock: { now: () => new Date(at) } });
    const written: string[] = [];
    for (let i = 0; i < 2000; i++)
      written.push((await store.create({ ...task(), identifier: [{ system: 'urn:t', value: 'burst' }] })).resource.id);
    const last = (await store.read<Task>('Task', written.at(-1) as string)).meta?.lastUpdated as string;
    expect(last).toBe('2026-03-05T10:00:00.001999Z');
    const sorted = await searchAll<Task>(store, 'Task', { identifier: 'urn:t|burst', _sort: '_lastUpdated' });
    expect(sorted.map((t) => t.id)).toEqual(written);
    // Searched by date at the clock's millisecond, every one of them is there.
    const atThatMs = await store.search('Task', { _lastUpdated: 'eq2026-03-05T10:00:00.001Z', _summary: 'count' });
    expect(atThatMs.total).toBe(1000);
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

  it('gives the total by default when the matches end soon after the page', async () => {
    const page = await (await fiveTasks()).search('Task', { identifier: 'urn:t|five', _count: '2' });
    expect(page.total).toBe(5);
    expect(page.resources).toHaveLength(2);
  });

  it('leaves the total out by default when counting would mean reading on; _total=accurate counts them all', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const matches = TOTAL_LOOKAHEAD + 10;
    for (let i = 0; i < matches; i++) await store.create(task({ identifier: [{ system: 'urn:t', value: 'many' }] }));
    for (const total of [undefined, 'estimate']) {
      const page = await store.search('Task', {
        identifier: 'urn:t|many',
        _count: '5',
        ...(total ? { _total: total } : {}),
      });
      expect(page.resources).toHaveLength(5);
      expect(page.total).toBeUndefined();
      expect(page.next).toBeDefined();
    }
    const accurate = await store.search('Task', { identifier: 'urn:t|many', _count: '5', _total: 'accurate' });
    expect(accurate.resources).toHaveLength(5);
    expect(accurate.total).toBe(matches);
    expect((await store.search('Task', { identifier: 'urn:t|many', _summary: 'count' })).total).toBe(matches);
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
