import { CODE_SYSTEMS, ODS_SYSTEM, SqliteStore, SYSTEMS } from '@imaging/fhir';
import type { Bundle, BundleEntry, Task } from '@medplum/fhirtypes';

const PER_TRANSACTION = 1000;

/**
 * Months of history in a gateway's store, written straight into the store file before the gateway
 * starts, in bulk transactions: half of it delivered outbox Tasks (as the delivery worker leaves them),
 * half of it finished fulfilment Tasks. Nothing in it is pending, so a poll that scales with pending
 * work must not notice it.
 */
export async function preloadHistory(path: string, tasks: number, destination: string): Promise<void> {
  const store = new SqliteStore({ path });
  try {
    const start = Date.now() - tasks * 1000;
    for (let first = 0; first < tasks; first += PER_TRANSACTION) {
      const entry: BundleEntry[] = [];
      for (let i = first; i < Math.min(tasks, first + PER_TRANSACTION); i++)
        entry.push({
          resource: historicTask(i, new Date(start + i * 1000), destination),
          request: { method: 'POST', url: 'Task' },
        });
      await store.transaction({ resourceType: 'Bundle', type: 'transaction', entry } as Bundle);
    }
  } finally {
    await store.close();
  }
}

function historicTask(i: number, at: Date, destination: string): Task {
  const when = at.toISOString();
  const caseId = `history-case-${Math.floor(i / 2)}`;
  if (i % 2 === 0) {
    return {
      resourceType: 'Task',
      identifier: [{ system: SYSTEMS.messageRequest, value: `history-${i}` }],
      groupIdentifier: { system: SYSTEMS.correlation, value: caseId },
      status: 'completed',
      intent: 'order',
      code: { coding: [{ system: CODE_SYSTEMS.taskCode, code: 'deliver-message' }] },
      authoredOn: when,
      lastModified: when,
      owner: { identifier: { system: SYSTEMS.region, value: 'history' } },
      input: [
        { type: { text: 'destination' }, valueString: destination },
        { type: { text: 'correlation-id' }, valueString: caseId },
        { type: { text: 'attempts' }, valueInteger: 1 },
        { type: { text: 'sequence' }, valueString: String(at.getTime() * 1_000_000).padStart(20, '0') },
      ],
      executionPeriod: { start: when, end: when },
      businessStatus: { text: 'delivered' },
    };
  }
  return {
    resourceType: 'Task',
    identifier: [{ system: SYSTEMS.task, value: `history-${i}-fulfil` }],
    groupIdentifier: { system: SYSTEMS.correlation, value: caseId },
    status: 'completed',
    intent: 'order',
    code: { coding: [{ system: CODE_SYSTEMS.taskCode, code: 'fulfil' }] },
    authoredOn: when,
    lastModified: when,
    requester: { identifier: { system: ODS_SYSTEM, value: 'N81001' } },
    owner: { identifier: { system: ODS_SYSTEM, value: 'RM1' } },
  };
}
