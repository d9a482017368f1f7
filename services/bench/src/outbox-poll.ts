import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CODE_SYSTEMS, SqliteStore, SYSTEMS } from '@imaging/fhir';
import { OPEN_DELIVERY, pendingDeliveriesQuery } from '@imaging/regional-gateway';
import type { Bundle, Task } from '@medplum/fhirtypes';
import { preloadHistory } from './history.ts';
import { median, quantile, table } from './report.ts';

export interface PollRow {
  history: number;
  poll: string;
  open: number;
  medianMs: number;
  p95Ms: number;
}

const OPEN = 20;
const POLLS = 200;

/** The poll before it had its own index key: every outbox Task by code, then by status. */
const POLL_BEFORE = {
  code: `${CODE_SYSTEMS.taskCode}|deliver-message,${CODE_SYSTEMS.taskCode}|register-pointer`,
  status: 'requested,in-progress',
  _count: '200',
  _total: 'none',
};

/**
 * The outbox poll on its own, on the embedded store: `OPEN` open deliveries among `history` Tasks of
 * history (half of them delivered outbox Tasks), polled as the gateway polls, and the same search in
 * the form it had before.
 */
export async function runOutboxPoll(sizes: number[]): Promise<PollRow[]> {
  const rows: PollRow[] = [];
  for (const history of sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'imaging-bench-poll-'));
    const path = join(dir, 'poll.sqlite');
    try {
      await preloadHistory(path, history, 'imaging-midlands');
      const store = new SqliteStore({ path });
      await store.transaction({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: Array.from({ length: OPEN }, (_, i) => ({
          resource: openDelivery(i),
          request: { method: 'POST', url: 'Task' },
        })),
      } as Bundle);
      for (const [poll, query] of [
        ['the poll (business-status, one index key)', pendingDeliveriesQuery(200)],
        ['the poll before (code + status)', POLL_BEFORE],
      ] as const) {
        const times: number[] = [];
        let open = 0;
        for (let k = 0; k < POLLS; k++) {
          const t0 = performance.now();
          open = (await store.search('Task', query)).resources.length;
          times.push(performance.now() - t0);
        }
        rows.push({ history, poll, open, medianMs: median(times), p95Ms: quantile(times, 0.95) });
      }
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`\nthe outbox poll: ${OPEN} open deliveries among the history, ${POLLS} polls each (embedded store)`);
  console.log(
    table(
      ['history Tasks', 'poll', 'found', 'median ms', 'p95 ms'],
      rows.map((r) => [r.history, r.poll, r.open, r.medianMs, r.p95Ms]),
    ),
  );
  return rows;
}

function openDelivery(i: number): Task {
  const at = new Date().toISOString();
  return {
    resourceType: 'Task',
    identifier: [{ system: SYSTEMS.messageRequest, value: `open-${i}` }],
    status: 'requested',
    intent: 'order',
    code: { coding: [{ system: CODE_SYSTEMS.taskCode, code: 'deliver-message' }] },
    authoredOn: at,
    lastModified: at,
    businessStatus: { coding: [{ ...OPEN_DELIVERY }] },
    input: [{ type: { text: 'destination' }, valueString: 'imaging-midlands' }],
  };
}
