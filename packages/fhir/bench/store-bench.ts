/**
 * Benchmark of the embedded store (not a test): creates, then the workflow's searches, at 500 and
 * 5,000 Tasks, file-backed with synchronous=FULL (every commit synced to disk).
 *
 *   node packages/fhir/bench/store-bench.ts [sizes...]     e.g. `node packages/fhir/bench/store-bench.ts 500 5000`
 *
 * For reference, Medplum's in-memory MemoryRepository took ~441 ms per search at 500 resources.
 */
import type { Task } from '@medplum/fhirtypes';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { CODE_SYSTEMS, ODS_SYSTEM, SYSTEMS } from '../src/systems.ts';

const SIZES = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const SEARCHES_PER_KIND = 200;
const STATUSES = ['requested', 'accepted', 'in-progress', 'completed'] as const;
const ORGS = 10;

function taskNumber(i: number): Task {
  const day = 1 + (i % 60);
  return {
    resourceType: 'Task',
    status: STATUSES[i % STATUSES.length] as Task['status'],
    intent: 'order',
    identifier: [{ system: SYSTEMS.task, value: `task-${i}` }],
    // one in five is an outbox delivery, as the gateway writes them
    code: { coding: [{ system: CODE_SYSTEMS.taskCode, code: i % 5 === 0 ? 'deliver-message' : 'fulfil' }] },
    for: { reference: `Patient/patient-${i % Math.max(1, Math.floor(i / 10) + 1)}` },
    focus: { reference: `ServiceRequest/order-${i}` },
    basedOn: [{ reference: `ServiceRequest/order-${i}` }],
    owner: { identifier: { system: ODS_SYSTEM, value: `ORG${i % ORGS}` } },
    requester: { identifier: { system: ODS_SYSTEM, value: `GP${i % 50}` } },
    authoredOn: new Date(Date.UTC(2026, 0, day, 9 + (i % 8))).toISOString(),
    description: `Imaging task ${i}`,
  };
}

interface Row {
  size: number;
  operation: string;
  mean: number;
  p95: number;
  matches: number;
}

function summarise(size: number, operation: string, times: number[], matches: number): Row {
  const sorted = [...times].sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const p95 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0;
  return { size, operation, mean, p95, matches };
}

async function bench(size: number): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'store-bench-'));
  const store = new SqliteStore({ path: join(dir, 'bench.db'), synchronous: 'FULL' });
  const rows: Row[] = [];
  try {
    const createTimes: number[] = [];
    for (let i = 0; i < size; i++) {
      const t0 = performance.now();
      await store.create(taskNumber(i));
      createTimes.push(performance.now() - t0);
    }
    rows.push(summarise(size, 'create (one commit each)', createTimes, 1));

    const ifNoneTimes: number[] = [];
    for (let k = 0; k < SEARCHES_PER_KIND; k++) {
      const i = (k * 7919) % size;
      const t0 = performance.now();
      await store.create(taskNumber(i), { ifNoneExist: `identifier=${SYSTEMS.task}|task-${i}` });
      ifNoneTimes.push(performance.now() - t0);
    }
    rows.push(summarise(size, 'conditional create (match)', ifNoneTimes, 1));

    const searches: [string, (k: number) => Record<string, string | string[]>][] = [
      ['identifier', (k) => ({ identifier: `${SYSTEMS.task}|task-${(k * 7919) % size}` })],
      [
        'owner:identifier + status',
        (k) => ({ 'owner:identifier': `${ODS_SYSTEM}|ORG${k % ORGS}`, status: 'requested,accepted', _count: '20' }),
      ],
      ['focus', (k) => ({ focus: `ServiceRequest/order-${(k * 7919) % size}` })],
      ['based-on', (k) => ({ 'based-on': `ServiceRequest/order-${(k * 7919) % size}` })],
      ['subject', (k) => ({ subject: `Patient/patient-${k % Math.max(1, Math.floor(size / 10))}` })],
      [
        'authored-on range (1 day)',
        (k) => ({
          'authored-on': [
            `ge2026-01-${String(1 + (k % 28)).padStart(2, '0')}`,
            `lt2026-01-${String(2 + (k % 28)).padStart(2, '0')}`,
          ],
          _count: '20',
        }),
      ],
      [
        'pending deliveries (code + status)',
        () => ({
          code: `${CODE_SYSTEMS.taskCode}|deliver-message,${CODE_SYSTEMS.taskCode}|register-pointer`,
          status: 'requested,in-progress',
          _count: '20',
        }),
      ],
      [
        'same, _total=none (the gateway poll)',
        () => ({
          code: `${CODE_SYSTEMS.taskCode}|deliver-message,${CODE_SYSTEMS.taskCode}|register-pointer`,
          status: 'requested,in-progress',
          _count: '20',
          _total: 'none',
        }),
      ],
      [
        'owner + status, -_lastUpdated',
        (k) => ({
          'owner:identifier': `${ODS_SYSTEM}|ORG${k % ORGS}`,
          status: 'requested',
          _sort: '-_lastUpdated',
          _count: '20',
        }),
      ],
    ];
    for (const [name, query] of searches) {
      const times: number[] = [];
      let matches = 0;
      for (let k = 0; k < SEARCHES_PER_KIND; k++) {
        const t0 = performance.now();
        const page = await store.search<Task>('Task', query(k));
        times.push(performance.now() - t0);
        matches += page.total ?? page.resources.length;
      }
      rows.push(summarise(size, `search: ${name}`, times, matches / SEARCHES_PER_KIND));
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

const rows: Row[] = [];
for (const size of SIZES.length ? SIZES : [500, 5000]) rows.push(...(await bench(size)));

const header = ['Tasks', 'operation', 'mean ms', 'p95 ms', 'matches'];
const body = rows.map((r) => [String(r.size), r.operation, r.mean.toFixed(3), r.p95.toFixed(3), r.matches.toFixed(1)]);
const widths = header.map((h, c) => Math.max(h.length, ...body.map((b) => (b[c] as string).length)));
const line = (cells: string[]): string =>
  `| ${cells.map((cell, c) => (c < 2 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number))).join(' | ')} |`;
console.log(
  `SqliteStore, file-backed, synchronous=FULL, ${SEARCHES_PER_KIND} searches of each kind (node ${process.version})`,
);
console.log(line(header));
console.log(`|${widths.map((w, c) => (c < 2 ? `-${'-'.repeat(w)}-` : `-${'-'.repeat(w)}:`)).join('|')}|`);
for (const b of body) console.log(line(b));
console.log('Reference: Medplum MemoryRepository, ~441 ms per search at 500 resources.');
