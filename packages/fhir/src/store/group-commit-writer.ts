import type { Task } from '@medplum/fhirtypes';
import { groupCommitStore } from './group-commit.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';

/**
 * The writer in the group-commit crash test (group-commit.test.ts): writes Tasks through
 * groupCommitStore, many at once and without end, and prints the id of each as soon as its write is
 * answered, until the test kills it with SIGKILL.
 */
const store = groupCommitStore(new SqliteStore({ path: process.argv[2] as string }));
for (let wave = 0; ; wave++) {
  await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const task: Task = { resourceType: 'Task', status: 'requested', intent: 'order', description: `${wave}-${i}` };
      const { resource } = await store.create(task);
      process.stdout.write(`answered ${resource.id}\n`);
    }),
  );
}
