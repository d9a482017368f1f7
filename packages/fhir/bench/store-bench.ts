/**
 * Benchmark of the embedded store (not a test): the workflow's searches, in the form the regional gateway
 * sends them, over one file-backed store (synchronous=FULL) that grows through each size in turn.
 *
 *   node packages/fhir/bench/store-bench.ts [sizes...] [--shape history|uniform] [--json <file>] [--compare <module>]
 *   e.g. node packages/fhir/bench/store-bench.ts 5000 20000 100000 --json reports/bench/store.json
 *
 * Shapes:
 * - `history` (default): months of history. Only the newest LIVE_WINDOW Tasks are still in progress; every
 *   older one is completed. What is pending stays the same size while history grows, as in production,
 *   so a search that "scales with what is pending, not with history" shows the same time at every size.
 * - `uniform`: every Task cycles through requested, accepted, in-progress and completed, so what is
 *   pending grows with the store (the shape of the original bench).
 *
 * `--compare` takes another SqliteStore module (say an older commit's `src/store/sqlite/sqlite-store.ts`),
 * fills a second store with the same Tasks, and times the two in turn, search by search, so that their
 * ratio holds however loaded the machine is.
 *
 * Times are medians (p50) and p95 over up to SEARCHES_PER_KIND searches of each kind. The machine's load
 * average is recorded: on a shared machine, compare within one run rather than across runs.
 */
import type { Bundle, BundleEntry, Task } from '@medplum/fhirtypes';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import type { SearchQuery } from '../src/store/port.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { CANONICAL_BASE, CODE_SYSTEMS, ODS_SYSTEM, SYSTEMS } from '../src/systems.ts';

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: { shape: { type: 'string', default: 'history' }, json: { type: 'string' }, compare: { type: 'string' } },
});
const SIZES = positionals.map(Number).filter((n) => Number.isInteger(n) && n > 0);
const SHAPE = options.shape === 'uniform' ? 'uniform' : 'history';
const LIVE_WINDOW = 2_000;
const SEARCHES_PER_KIND = 200;
/** Per kind and size, stop early after this long: the slow searches of a "before" run would take minutes. */
const TIME_BUDGET_MS = 1_500;
const TIMED_CREATES = 100;
/** Writes per transaction in the grouped timings: about what group commit gathers under the design day's load. */
const GROUP = 20;
/** Groups timed per size, for creates and for updates. */
const TIMED_GROUPS = 20;
const TIMED_UPDATES = 100;
const FILL_BATCH = 500;
const STATUSES = ['requested', 'accepted', 'in-progress', 'completed'] as const;
const ORGS = 10;
/** The gateway's access label system (services/regional-gateway/src/domain/labels.ts). */
const ACCESS_SYSTEM = `${CANONICAL_BASE}/CodeSystem/organisation-access`;
/** The gateway's delivery batch (services/regional-gateway/src/deps.ts). */
const DELIVERY_BATCH = 100;

const org = (i: number): string => `ORG${i % ORGS}`;
const gp = (i: number): string => `GP${i % 50}`;
const access = (ods: string): string => `${ACCESS_SYSTEM}|${ods}`;

/**
 * Task number i: four in five are fulfilment Tasks labelled for their requester and owner, as the gateway
 * writes them; one in five is an outbox delivery (unlabelled, owned by the region).
 */
function taskNumber(i: number, live: boolean): Task {
  const status = live ? (STATUSES[i % STATUSES.length] as Task['status']) : 'completed';
  const authoredOn = new Date(Date.UTC(2026, 0, 1 + (i % 60), 9 + (i % 8))).toISOString();
  if (i % 5 === 0) {
    return {
      resourceType: 'Task',
      status,
      intent: 'order',
      identifier: [{ system: SYSTEMS.messageRequest, value: `request-${i}` }],
      code: { coding: [{ system: CODE_SYSTEMS.taskCode, code: 'deliver-message' }] },
      focus: { reference: `Bundle/message-${i}` },
      owner: { identifier: { system: SYSTEMS.region, value: 'north' } },
      authoredOn,
    };
  }
  return {
    resourceType: 'Task',
    meta: {
      security: [
        { system: ACCESS_SYSTEM, code: gp(i) },
        { system: ACCESS_SYSTEM, code: org(i) },
      ],
    },
    status,
    intent: 'order',
    identifier: [{ system: SYSTEMS.task, value: `task-${i}` }],
    code: { coding: [{ system: CODE_SYSTEMS.taskCode, code: 'fulfil' }] },
    for: { reference: `Patient/patient-${i % Math.max(1, Math.floor(i / 10) + 1)}` },
    focus: { reference: `ServiceRequest/order-${i}` },
    basedOn: [{ reference: `ServiceRequest/order-${i}` }],
    owner: { identifier: { system: ODS_SYSTEM, value: org(i) } },
    requester: { identifier: { system: ODS_SYSTEM, value: gp(i) } },
    authoredOn,
    description: `Imaging task ${i}`,
  };
}

/** A fulfilment Task's number, spread over the store (never a delivery). */
function fulfilment(k: number, size: number): number {
  const i = (k * 7919) % size;
  return i % 5 === 0 ? (i + 1) % size : i;
}

type Search = [name: string, query: (k: number, size: number) => SearchQuery];

/** The searches, in the form the gateway sends them: a client's search gets the caller's access filter. */
const SEARCHES: Search[] = [
  ['identifier (internal: searchOne)', (k, n) => ({ identifier: `${SYSTEMS.task}|task-${fulfilment(k, n)}` })],
  [
    'identifier + _security',
    (k, n) => {
      const i = fulfilment(k, n);
      return { identifier: `${SYSTEMS.task}|task-${i}`, _security: access(org(i)) };
    },
  ],
  [
    'work queue: owner:identifier + status + _security',
    (k) => ({
      'owner:identifier': `${ODS_SYSTEM}|${org(k)}`,
      status: 'requested,accepted',
      _security: access(org(k)),
    }),
  ],
  [
    'RIS poll: status + code, _sort=_lastUpdated, + _security',
    (k) => ({
      status: 'requested',
      code: `${CODE_SYSTEMS.taskCode}|fulfil`,
      _sort: '_lastUpdated',
      _security: access(org(k)),
    }),
  ],
  [
    'delivery poll (outbox.ts pendingDeliveriesQuery)',
    () => ({
      code: `${CODE_SYSTEMS.taskCode}|deliver-message,${CODE_SYSTEMS.taskCode}|register-pointer`,
      status: 'requested,in-progress',
      _count: String(DELIVERY_BATCH),
      _total: 'none',
    }),
  ],
  [
    'Task by focus + code + _security (referrer)',
    (k, n) => {
      const i = fulfilment(k, n);
      return {
        focus: `ServiceRequest/order-${i}`,
        code: `${CODE_SYSTEMS.taskCode}|fulfil`,
        _security: access(gp(i)),
      };
    },
  ],
  [
    'Task by focus (internal: searchAll)',
    (k, n) => ({ focus: `ServiceRequest/order-${fulfilment(k, n)}`, _count: '100', _total: 'none' }),
  ],
  ['subject', (k, n) => ({ subject: `Patient/patient-${k % Math.max(1, Math.floor(n / 10))}` })],
  [
    'authored-on range (1 day)',
    (k) => ({
      'authored-on': [
        `ge2026-01-${String(1 + (k % 28)).padStart(2, '0')}`,
        `lt2026-01-${String(2 + (k % 28)).padStart(2, '0')}`,
      ],
    }),
  ],
];

/** The store under test, and in a comparison the other one. */
interface Subject {
  label: string;
  store: SqliteStore;
  ids: string[];
}

interface Row {
  store: string;
  size: number;
  operation: string;
  query: string;
  n: number;
  p50: number;
  p95: number;
  mean: number;
  /** Resources returned per search, on average. */
  returned: number;
}

function summarise(
  store: string,
  size: number,
  operation: string,
  query: string,
  times: number[],
  returned: number,
): Row {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return { store, size, operation, query, n: times.length, p50: at(0.5), p95: at(0.95), mean, returned };
}

function describe(query: SearchQuery): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query as Record<string, string | string[]>))
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  return decodeURIComponent(`Task?${params.toString()}`);
}

function post(task: Task): BundleEntry {
  return { resource: task, request: { method: 'POST', url: 'Task' } };
}

async function inBatches(store: SqliteStore, entries: BundleEntry[]): Promise<void> {
  for (let at = 0; at < entries.length; at += FILL_BATCH) {
    const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: entries.slice(at, at + FILL_BATCH) };
    await store.transaction(bundle);
  }
}

/** Per write: the elapsed time, and the process's CPU time (user and system), which the machine's load inflates less. */
interface Timed {
  wall: number[];
  cpu: number[];
}

function startTimer(): { wall: number; cpu: NodeJS.CpuUsage } {
  return { wall: performance.now(), cpu: process.cpuUsage() };
}

function stopTimer(start: { wall: number; cpu: NodeJS.CpuUsage }, into: Timed, writes: number): void {
  const cpu = process.cpuUsage(start.cpu);
  into.wall.push((performance.now() - start.wall) / writes);
  into.cpu.push((cpu.user + cpu.system) / 1000 / writes);
}

/** Rows for writes made GROUP to a transaction: the elapsed time per write, and the CPU time per write. */
function summariseGrouped(label: string, size: number, operation: string, query: string, times: Timed): Row[] {
  const name = `${operation} (${GROUP} per commit)`;
  return [
    summarise(label, size, `${name}, per Task`, `transaction of ${query}`, times.wall, 1),
    summarise(label, size, `${name}, CPU per Task`, `transaction of ${query}`, times.cpu, 1),
  ];
}

/** Grows the store from `from` to `size` Tasks; in the history shape, Tasks leaving the live window complete. */
async function grow({ label, store, ids }: Subject, from: number, size: number): Promise<Row[]> {
  const liveFrom = SHAPE === 'history' ? Math.max(0, size - LIVE_WINDOW) : 0;
  const single = Math.max(from, size - TIMED_CREATES);
  const grouped = Math.max(from, single - GROUP * TIMED_GROUPS);
  const createInTransactions = async (start: number, end: number, batch: number, times?: Timed) => {
    for (let at = start; at < end; at += batch) {
      const upTo = Math.min(end, at + batch);
      const entries: BundleEntry[] = [];
      for (let i = at; i < upTo; i++) entries.push(post(taskNumber(i, i >= liveFrom)));
      const t0 = startTimer();
      const response = await store.transaction({ resourceType: 'Bundle', type: 'transaction', entry: entries });
      if (times) stopTimer(t0, times, entries.length);
      for (const e of response.entry ?? []) ids.push(/^Task\/([^/]+)/.exec(e.response?.location ?? '')?.[1] as string);
    }
  };
  await createInTransactions(from, grouped, FILL_BATCH);
  const groupedTimes: Timed = { wall: [], cpu: [] };
  await createInTransactions(grouped, single, GROUP, groupedTimes);
  const createTimes: number[] = [];
  for (let i = single; i < size; i++) {
    const t0 = performance.now();
    ids.push((await store.create(taskNumber(i, true))).resource.id);
    createTimes.push(performance.now() - t0);
  }
  // Tasks that were live at the previous size and are now history complete, as they would have.
  const retired: BundleEntry[] = [];
  for (let i = Math.max(0, from - LIVE_WINDOW); i < Math.min(from, liveFrom); i++) {
    retired.push({
      resource: { ...taskNumber(i, false), id: ids[i] },
      request: { method: 'PUT', url: `Task/${ids[i]}` },
    });
  }
  await inBatches(store, retired);
  return [
    summarise(label, size, 'create (one commit each)', 'POST Task', createTimes, 1),
    ...summariseGrouped(label, size, 'create', 'POST Task', groupedTimes),
  ];
}

/**
 * Status updates of live fulfilment Tasks, as the workflow makes them: the status and lastModified change
 * (so a token row and two date rows), everything else stays. Each Task is updated to `received` and then
 * back to `requested`, so that the searches after see the same statuses as before.
 */
async function updates({ label, store, ids }: Subject, size: number): Promise<Row[]> {
  const requested: number[] = [];
  for (let i = size - 1; i >= 0 && requested.length < GROUP * TIMED_GROUPS; i--) {
    if (i % 5 !== 0 && taskNumber(i, true).status === 'requested' && (SHAPE === 'uniform' || i >= size - LIVE_WINDOW))
      requested.push(i);
  }
  const put = (i: number, status: Task['status'], modified: number): BundleEntry => ({
    resource: {
      ...taskNumber(i, true),
      id: ids[i],
      status,
      lastModified: new Date(Date.UTC(2026, 1, 1, 0, 0, modified)).toISOString(),
    },
    request: { method: 'PUT', url: `Task/${ids[i]}` },
  });
  const singleTimes: number[] = [];
  const groupedTimes: Timed = { wall: [], cpu: [] };
  for (const [step, status] of (['received', 'requested'] as const).entries()) {
    for (const i of requested.slice(0, TIMED_UPDATES)) {
      const resource = put(i, status, step).resource as Task & { id: string };
      const t0 = performance.now();
      await store.update(resource);
      singleTimes.push(performance.now() - t0);
    }
    for (let at = TIMED_UPDATES; at < requested.length; at += GROUP) {
      const entries = requested.slice(at, at + GROUP).map((i) => put(i, status, step));
      const t0 = startTimer();
      await store.transaction({ resourceType: 'Bundle', type: 'transaction', entry: entries });
      stopTimer(t0, groupedTimes, entries.length);
    }
  }
  return [
    summarise(label, size, 'update (one commit each)', 'PUT Task (status)', singleTimes, 1),
    ...summariseGrouped(label, size, 'update', 'PUT Task (status)', groupedTimes),
  ];
}

/** One kind of search, on each subject in turn, search by search. */
async function timed(size: number, name: string, query: (k: number) => SearchQuery, subjects: Subject[]) {
  for (const { store } of subjects) for (let k = 0; k < 5; k++) await store.search<Task>('Task', query(k)); // warm up
  const times = subjects.map((): number[] => []);
  const returned = subjects.map(() => 0);
  const start = performance.now();
  for (let k = 0; k < SEARCHES_PER_KIND && (k < 10 || performance.now() - start < TIME_BUDGET_MS); k++) {
    const q = query(k);
    for (const [s, { store }] of subjects.entries()) {
      const t0 = performance.now();
      const page = await store.search<Task>('Task', q);
      times[s]?.push(performance.now() - t0);
      returned[s] = (returned[s] ?? 0) + page.resources.length;
    }
  }
  return subjects.map(({ label }, s) => {
    const n = times[s]?.length ?? 1;
    return summarise(label, size, name, describe(query(1)), times[s] ?? [], (returned[s] ?? 0) / n);
  });
}

async function run(sizes: number[], compared: typeof SqliteStore | undefined): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'store-bench-'));
  const subjects: Subject[] = [
    { label: 'this', store: new SqliteStore({ path: join(dir, 'this.db'), synchronous: 'FULL' }), ids: [] },
  ];
  if (compared) {
    const store = new compared({ path: join(dir, 'compared.db'), synchronous: 'FULL' });
    subjects.push({ label: 'compared', store, ids: [] });
  }
  const rows: Row[] = [];
  try {
    let from = 0;
    for (const size of sizes) {
      for (const subject of subjects) rows.push(...(await grow(subject, from, size)));
      for (const subject of subjects) rows.push(...(await updates(subject, size)));
      from = size;
      for (const { label, store } of subjects) {
        const ifNoneTimes: number[] = [];
        for (let k = 0; k < TIMED_CREATES; k++) {
          const i = fulfilment(k, size);
          const t0 = performance.now();
          await store.create(taskNumber(i, true), { ifNoneExist: `identifier=${SYSTEMS.task}|task-${i}` });
          ifNoneTimes.push(performance.now() - t0);
        }
        const conditional = 'POST Task, If-None-Exist: identifier';
        rows.push(summarise(label, size, 'conditional create (match)', conditional, ifNoneTimes, 1));
      }
      for (const [name, query] of SEARCHES) rows.push(...(await timed(size, name, (k) => query(k, size), subjects)));
    }
  } finally {
    for (const { store } of subjects) await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

function table(header: string[], body: string[][], leftColumns: number): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((b) => (b[c] as string).length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((cell, c) => (c < leftColumns ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number))).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (c < leftColumns ? `-${'-'.repeat(w)}-` : `-${'-'.repeat(w)}:`)).join('|')}|`;
  return [line(header), rule, ...body.map(line)];
}

const sizes = (SIZES.length ? SIZES : [5_000, 20_000, 100_000]).sort((a, b) => a - b);
const compared = options.compare
  ? ((await import(resolve(options.compare))) as { SqliteStore: typeof SqliteStore }).SqliteStore
  : undefined;
const loadBefore = loadavg();
const started = performance.now();
const rows = await run(sizes, compared);
const loadAfter = loadavg();
const sqlite = new DatabaseSync(':memory:').prepare('SELECT sqlite_version() AS v').get()?.v;

console.log(
  `SqliteStore, file-backed, synchronous=FULL, shape ${SHAPE}${SHAPE === 'history' ? ` (newest ${LIVE_WINDOW} Tasks live)` : ''}; node ${process.version}, SQLite ${sqlite}; ${cpus().length} CPUs, load average ${loadBefore[0]?.toFixed(2)} at start, ${loadAfter[0]?.toFixed(2)} at end`,
);
const p50 = (store: string, size: number, operation: string) =>
  rows.find((r) => r.store === store && r.size === size && r.operation === operation)?.p50 ?? Number.NaN;
const operations = [...new Set(rows.map((r) => r.operation))];
const own = rows.filter((r) => r.store === 'this');
for (const line of table(
  [
    'Tasks',
    'operation',
    'p50 ms',
    'p95 ms',
    'n',
    'returned',
    ...(compared ? ['compared p50 ms', 'compared / this'] : []),
  ],
  own.map((r) => {
    const cells = [String(r.size), r.operation, r.p50.toFixed(3), r.p95.toFixed(3), String(r.n), r.returned.toFixed(1)];
    if (!compared) return cells;
    const other = p50('compared', r.size, r.operation);
    return [...cells, other.toFixed(3), `${(other / r.p50).toFixed(1)}×`];
  }),
  2,
))
  console.log(line);
const smallest = sizes[0] as number;
const largest = sizes[sizes.length - 1] as number;
if (largest > smallest) {
  console.log(`\nGrowth of the median, ${largest} / ${smallest} Tasks (same run):`);
  const growth = (store: string, operation: string) => p50(store, largest, operation) / p50(store, smallest, operation);
  const body = operations.map((operation) => [
    operation,
    p50('this', smallest, operation).toFixed(3),
    p50('this', largest, operation).toFixed(3),
    `${growth('this', operation).toFixed(2)}×`,
    ...(compared ? [`${growth('compared', operation).toFixed(2)}×`] : []),
  ]);
  const header = ['operation', `p50 ${smallest}`, `p50 ${largest}`, 'growth', ...(compared ? ['compared growth'] : [])];
  for (const line of table(header, body, 1)) console.log(line);
}
console.log(`(${((performance.now() - started) / 1000).toFixed(0)} s)`);

if (options.json) {
  mkdirSync(dirname(options.json), { recursive: true });
  const report = {
    bench: 'packages/fhir/bench/store-bench.ts',
    date: new Date().toISOString(),
    node: process.version,
    sqlite,
    cpus: cpus().length,
    loadAverage: { start: loadBefore, end: loadAfter },
    shape: SHAPE,
    liveWindow: SHAPE === 'history' ? LIVE_WINDOW : undefined,
    compared: options.compare,
    sizes,
    rows,
  };
  writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
}
