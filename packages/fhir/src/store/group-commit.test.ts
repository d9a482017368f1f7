import type { Bundle, Patient, Task } from '@medplum/fhirtypes';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTRACT_SYSTEM, describeStoreContract, expectOutcome } from './contract/index.ts';
import { groupCommitStore } from './group-commit.ts';
import type { FhirStore } from './port.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'group-commit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = (): string => join(dir, `store-${++files}.db`);

describeStoreContract('groupCommitStore over SqliteStore', async () =>
  groupCommitStore(new SqliteStore({ path: freshFile() })),
);

/** A SqliteStore that counts the transactions it is asked for, and all its writes (creates and transactions). */
function counted(path: string): { store: FhirStore; transactions: () => number; writes: () => number } {
  const store = new SqliteStore({ path });
  let transactions = 0;
  let creates = 0;
  const transaction = store.transaction.bind(store);
  store.transaction = (bundle: Bundle) => {
    transactions++;
    return transaction(bundle);
  };
  const create = store.create.bind(store);
  store.create = (resource, options) => {
    creates++;
    return create(resource, options);
  };
  return { store, transactions: () => transactions, writes: () => transactions + creates };
}

const task = (value: string): Task => ({
  resourceType: 'Task',
  status: 'requested',
  intent: 'order',
  identifier: [{ system: CONTRACT_SYSTEM, value }],
});

describe('groupCommitStore', () => {
  it('stores writes made together in one transaction, and answers each as if it had been alone', async () => {
    const below = counted(freshFile());
    const store = groupCommitStore(below.store);
    const existing = (await store.create(task('existing'))).resource;
    const before = below.transactions();
    const [created, matched, updated, bundle] = await Promise.all([
      store.create(task('new')),
      store.create(task('other'), { ifNoneExist: `identifier=${CONTRACT_SYSTEM}|existing` }),
      store.update({ ...existing, status: 'accepted' }, { ifMatch: '1' }),
      store.transaction({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: 'urn:uuid:6b0c1e52-7a43-4bde-9d0e-3b9f1f4d2a10',
            resource: task('in-bundle'),
            request: { method: 'POST', url: 'Task' },
          },
          {
            resource: { ...task('focus'), focus: { reference: 'urn:uuid:6b0c1e52-7a43-4bde-9d0e-3b9f1f4d2a10' } },
            request: { method: 'POST', url: 'Task' },
          },
        ],
      }),
    ]);
    expect(below.transactions() - before).toBe(1);
    expect(created).toMatchObject({ created: true, resource: { identifier: [{ value: 'new' }] } });
    expect(matched).toMatchObject({ created: false, resource: { id: existing.id } });
    expect(updated).toMatchObject({ id: existing.id, status: 'accepted', meta: { versionId: '2' } });
    expect(bundle.type).toBe('transaction-response');
    const [first, second] = (bundle.entry ?? []).map((e) => e.resource as Task);
    expect(second?.focus?.reference).toBe(`Task/${first?.id}`);
    await store.close();
  });

  it('fails only the write at fault, with its own error, when a group cannot commit', async () => {
    const store = groupCommitStore(new SqliteStore({ path: freshFile() }));
    const stored = (await store.create(task('versioned'))).resource;
    const stale = store.update({ ...stored, status: 'accepted' }, { ifMatch: '7' });
    const fine = store.create(task('unrelated'));
    const refused = await expectOutcome(stale, 412);
    expect(refused.outcome.issue[0]?.expression).toBeUndefined();
    expect(await fine).toMatchObject({ created: true });
    expect((await store.read<Task>('Task', stored.id)).status).toBe('requested');
    await store.close();
  });

  it('never groups writes that could see each other: one copy for two conditional creates of one identifier', async () => {
    const below = counted(freshFile());
    const store = groupCommitStore(below.store);
    const patient: Patient = { resourceType: 'Patient', identifier: [{ system: CONTRACT_SYSTEM, value: 'once' }] };
    const results = await Promise.all([
      store.create(patient, { ifNoneExist: `identifier=${CONTRACT_SYSTEM}|once` }),
      store.create(patient, { ifNoneExist: `identifier=${encodeURIComponent(`${CONTRACT_SYSTEM}|once`)}` }),
    ]);
    expect(results.map((r) => r.created).sort()).toEqual([false, true]);
    expect(results[0]?.resource.id).toBe(results[1]?.resource.id);
    const page = await store.search('Patient', { identifier: `${CONTRACT_SYSTEM}|once` });
    expect(page.resources).toHaveLength(1);
    await store.close();
  });

  it('with a gap between commits, gathers the writes made within it after a commit into one group', async () => {
    const below = counted(freshFile());
    const store = groupCommitStore(below.store, { minGapMs: 1_000 });
    await store.create(task('first'));
    const before = below.writes();
    // Within the gap after the first commit: one write now, two a moment later. With no gap the first of
    // them would commit alone on the next turn, and the other two together after it.
    const now = store.create(task('gap-1'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const later = [store.create(task('gap-2')), store.create(task('gap-3'))];
    const results = await Promise.all([now, ...later]);
    expect(results.map((r) => r.created)).toEqual([true, true, true]);
    expect(below.writes() - before).toBe(1);
    await store.close();
  });

  it('with a gap between commits, commits a write after a quiet spell on the next turn', async () => {
    // A gap of a minute: a write that waited for it would outlast the test's time limit.
    const store = groupCommitStore(new SqliteStore({ path: freshFile() }), { minGapMs: 60_000 });
    expect((await store.create(task('quiet'))).created).toBe(true);
    await store.close();
  });

  it('answers a write only once it is committed: another connection to the file reads it then', async () => {
    const path = freshFile();
    const store = groupCommitStore(new SqliteStore({ path }));
    const [a, b] = await Promise.all([store.create(task('seen-a')), store.create(task('seen-b'))]);
    const other = new SqliteStore({ path });
    expect((await other.read<Task>('Task', a.resource.id)).identifier?.[0]?.value).toBe('seen-a');
    expect((await other.read<Task>('Task', b.resource.id)).identifier?.[0]?.value).toBe('seen-b');
    await other.close();
    await store.close();
  });

  it('loses no answered write when the process is killed with SIGKILL mid-stream', async () => {
    const path = freshFile();
    const writer = spawn(process.execPath, [new URL('./group-commit-writer.ts', import.meta.url).pathname, path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const answered: string[] = [];
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      writer.once('error', reject);
      writer.once('exit', () => resolve());
      writer.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('answered ')) answered.push(line.slice('answered '.length));
        if (answered.length >= 500 && writer.exitCode === null) writer.kill('SIGKILL');
      });
    });
    expect(writer.signalCode).toBe('SIGKILL');
    expect(answered.length).toBeGreaterThanOrEqual(500);
    const reopened = new SqliteStore({ path });
    for (const id of answered) expect((await reopened.read<Task>('Task', id)).id).toBe(id);
    await reopened.close();
  });
});
