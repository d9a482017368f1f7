import { parentPort, workerData } from 'node:worker_threads';
import type { Task } from '@medplum/fhirtypes';
import { OutcomeError } from '../../outcomes.ts';
import { SqliteStore } from './sqlite-store.ts';

/**
 * One replica in the two-replica race test (sqlite-store.test.ts): it opens the shared file, reads the
 * Task, waits at a barrier until the other replica has read it too, then updates it with If-Match.
 */
interface RaceInput {
  path: string;
  id: string;
  description: string;
  barrier: SharedArrayBuffer;
}

const input = workerData as RaceInput;
const store = new SqliteStore({ path: input.path });
const current = await store.read<Task>('Task', input.id);
const arrived = new Int32Array(input.barrier);
Atomics.add(arrived, 0, 1);
Atomics.notify(arrived, 0);
while (Atomics.load(arrived, 0) < 2) Atomics.wait(arrived, 0, 1, 50);
try {
  const updated = await store.update<Task>(
    { ...current, description: input.description },
    { ifMatch: current.meta?.versionId },
  );
  parentPort?.postMessage({ ok: true, version: updated.meta?.versionId, read: current.meta?.versionId });
} catch (err) {
  parentPort?.postMessage({
    ok: false,
    status: err instanceof OutcomeError ? err.status : 500,
    read: current.meta?.versionId,
  });
} finally {
  await store.close();
}
