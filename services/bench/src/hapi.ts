import type { Bundle } from '@medplum/fhirtypes';
import { ensurePartitions } from '@imaging/conformance';
import { HttpStore, prepareReferenceIdentifierSearch } from '@imaging/fhir';
import { OPEN_DELIVERY } from '@imaging/regional-gateway';
import { cpuMeter } from './cpu-meter.ts';
import type { CpuSpent } from './cpu-meter.ts';
import {
  isRecordTransaction,
  queuedRequestIds,
  recordForDirect,
  recordsOf,
  requestIdsOf,
  noteStoredOutboxTasks,
} from './delivery-record.ts';
import type { StoredOutboxTasks } from './delivery-record.ts';
import { countsBetween, startCountingProxy } from './hapi-proxy.ts';
import type { CountingProxy, RequestKind } from './hapi-proxy.ts';
import { runLatency } from './latency.ts';
import type { LatencyResult } from './latency.ts';
import { loadLine, median, table } from './report.ts';
import { startBenchTopology } from './topology.ts';
import type { BenchTopology } from './topology.ts';
import { connectTraffic, inParallel, placeOrder, waitForDeliveries } from './traffic.ts';
import type { Traffic } from './traffic.ts';

/** Measured by the issue, for scale: Medplum's in-memory MemoryRepository, one identifier search. */
export const MEDPLUM_MEMORY_ANCHORS = [
  { resources: 500, identifierSearchMs: 1.5 },
  { resources: 5000, identifierSearchMs: 14 },
];

/** The services that store in HAPI, each in a partition of its own. */
const SERVICES = ['north', 'midlands'] as const;
export type HapiPartitions = Record<(typeof SERVICES)[number], string>;

export interface GatewayVsDirectOptions {
  /** Orders per round, on each side. */
  orders: number;
  /** Clients placing orders at once (a closed loop), on each side. */
  clients: number;
  /** Rounds, alternating gateway and direct; medians are reported. */
  rounds: number;
  /** Orders placed one at a time, each waited for until delivered, to count requests per order unbatched. */
  sequential: number;
  /** Run the services from another checkout (a baseline). */
  sourceRoot?: string;
  /** HAPI's process, when it runs here: its CPU per order is reported beside the services'. */
  serverPid?: number;
  /** Run the services under `node --cpu-prof` (profiles kept in the data dir, named in the result). */
  profile?: boolean;
}

/**
 * CPU milliseconds per order on this machine's shared cores, by who spent them: HAPI's process (not the
 * database's, on PostgreSQL), the three services, and this process (the clients and the counting proxy).
 */
export interface RoundCpu {
  hapi?: number;
  services: number;
  bench: number;
}

export interface HapiRound {
  /**
   * `direct`: the orders' transactions sent straight to HAPI; `direct+record`: those and the delivery's
   * record (each outbox Task's outcome and its AuditEvent, as the gateway wrote them), i.e. every write the
   * gateway makes HAPI do.
   */
  side: 'gateway' | 'direct' | 'direct+record';
  orders: number;
  /** Orders answered per second (the gateway's 201s, or HAPI's transaction-responses). */
  placedPerSecond: number;
  /** For the gateway: orders placed and sent on (outbox settled) per second, from the first to the last. */
  deliveredPerSecond?: number;
  /** Requests to HAPI per order, by kind, and in all. */
  requestsPerOrder: Record<RequestKind, number> & { total: number };
  cpuMsPerOrder: RoundCpu;
}

export interface GatewayVsDirectResult {
  clients: number;
  rounds: HapiRound[];
  /** Requests to HAPI per order with orders placed one at a time (nothing to batch). */
  sequentialRequestsPerOrder: Record<RequestKind, number> & { total: number };
  medians: { gatewayPlaced: number; gatewayDelivered: number; direct: number; directWithRecord: number };
  /**
   * Gateway over direct: orders placed and sent per second, and orders placed per second; and placed and
   * sent over direct with the delivery's record (what is left is the gateway's own cost).
   */
  ratio: { delivered: number; placed: number; deliveredOverRecord: number };
  /** Where the services' profiles are, when profiled. */
  dataDir?: string;
}

/**
 * New partitions for one run (`bench-<stamp>-north`…), so that nothing an earlier run left (open
 * deliveries, patients) takes part, with the reference-identifier SearchParameters searchable in each.
 * Returns each service's partition name.
 */
export async function freshPartitions(root: string): Promise<HapiPartitions> {
  const stamp = `bench-${Date.now().toString(36)}`;
  const names = Object.fromEntries(SERVICES.map((s) => [s, `${stamp}-${s}`])) as HapiPartitions;
  await ensurePartitions(root, Object.values(names));
  await prepareReferenceIdentifierSearch(
    new HttpStore({ baseUrl: `${root}/DEFAULT`, timeoutMs: 120_000 }),
    Object.values(names).map((p) => new HttpStore({ baseUrl: `${root}/${p}`, timeoutMs: 120_000 })),
  );
  return names;
}

/**
 * The north gateway storing in HAPI (the hub and the midlands on their embedded stores, so HAPI serves the
 * north alone) against the same transactions sent straight to HAPI: rounds alternate, each side with the
 * same clients. A gateway round places orders through the gateway and waits until its outbox has sent
 * them all; the direct round that follows replays that round's transactions, as the gateway sent them,
 * with fresh business identifiers. Every request to HAPI, on both sides, goes through one counting proxy.
 */
export async function runGatewayVsDirect(
  root: string,
  options: GatewayVsDirectOptions,
): Promise<GatewayVsDirectResult> {
  const { north } = await freshPartitions(root);
  const proxy = await startCountingProxy(root);
  let world: BenchTopology | undefined;
  try {
    world = await startBenchTopology({
      history: 0,
      stores: { north: `${proxy.url}/${north}` },
      ...(options.sourceRoot ? { sourceRoot: options.sourceRoot } : {}),
      ...(options.profile ? { profile: true } : {}),
    });
    const patients = Math.max(1, Math.min(50, options.orders));
    const traffic = await connectTraffic(world, patients, 4);
    let placed = 0;
    let delivered = 0;
    // Warm-up, not measured: one order per patient shares each with the performer (a Patient update in
    // that first transaction, none after) and warms HAPI's JIT.
    await inParallel(patients, options.clients, async (n) => {
      await placeOrder(traffic, placed + n);
    });
    placed += patients;
    delivered = (await waitForDeliveries(world, placed, 120_000)).delivered;

    let before = proxy.counts();
    for (let n = 0; n < options.sequential; n++) {
      await placeOrder(traffic, placed++);
      delivered = (await waitForDeliveries(world, placed, 60_000)).delivered;
    }
    const sequential = perOrder(countsBetween(before, proxy.counts(), north), options.sequential);
    proxy.takeTransactions(north);

    const direct = new HttpStore({ baseUrl: `${proxy.url}/${north}`, timeoutMs: 120_000 });
    const rounds: HapiRound[] = [];
    const cpu = cpuMeter(world, options.serverPid);
    for (let round = 0; round < options.rounds; round++) {
      before = proxy.counts();
      let cpuBefore = cpu.now();
      const began = performance.now();
      const beganAt = Date.now();
      const first = placed;
      await inParallel(options.orders, options.clients, async (n) => {
        await placeOrder(traffic, first + n);
      });
      placed += options.orders;
      const placedIn = performance.now() - began;
      const done = await waitForDeliveries(world, placed, 120_000 + options.orders * 200);
      if (done.delivered < placed) throw new Error(`only ${done.delivered - delivered} of ${options.orders} delivered`);
      delivered = done.delivered;
      const sentIn = done.at - beganAt;
      rounds.push({
        side: 'gateway',
        orders: options.orders,
        placedPerSecond: options.orders / (placedIn / 1000),
        deliveredPerSecond: options.orders / (sentIn / 1000),
        requestsPerOrder: perOrder(countsBetween(before, proxy.counts(), north), options.orders),
        cpuMsPerOrder: roundCpu(cpu, cpuBefore, options.orders),
      });

      // The orders' transactions, and the record the gateway wrote of their deliveries, replayed: the orders
      // alone, then with the record, or the other way round every other round, since what HAPI leaves over
      // from one side (garbage to collect) falls on the next.
      const written = await roundWrites(proxy, north);
      const alone = written.orders.map((bundle) => withFreshIdentifiers(bundle, traffic, `d${round}`));
      const orders = written.orders.map((bundle) => withFreshIdentifiers(bundle, traffic, `r${round}`));
      const records = written.records.map((bundle) => withFreshIdentifiers(bundle, traffic, `r${round}`));
      const sides: [HapiRound['side'], Bundle[], () => Promise<void>][] = [
        [
          'direct',
          alone,
          () =>
            inParallel(alone.length, options.clients, async (i) => {
              await replayOrder(direct, alone[i] as Bundle);
            }),
        ],
        ['direct+record', orders, () => replayWithRecord(direct, orders, records, options.clients)],
      ];
      for (const [side, replayed, replay] of round % 2 ? sides.reverse() : sides) {
        before = proxy.counts();
        cpuBefore = cpu.now();
        const t0 = performance.now();
        await replay();
        rounds.push({
          side,
          orders: replayed.length,
          placedPerSecond: replayed.length / ((performance.now() - t0) / 1000),
          requestsPerOrder: perOrder(countsBetween(before, proxy.counts(), north), replayed.length),
          cpuMsPerOrder: roundCpu(cpu, cpuBefore, replayed.length),
        });
      }
      proxy.takeTransactions(north); // the replays' own, not the gateway's
    }
    const of = (side: HapiRound['side'], rate: (r: HapiRound) => number) =>
      median(rounds.filter((r) => r.side === side).map(rate));
    const medians = {
      gatewayPlaced: of('gateway', (r) => r.placedPerSecond),
      gatewayDelivered: of('gateway', (r) => r.deliveredPerSecond ?? 0),
      direct: of('direct', (r) => r.placedPerSecond),
      directWithRecord: of('direct+record', (r) => r.placedPerSecond),
    };
    return {
      clients: options.clients,
      rounds,
      sequentialRequestsPerOrder: sequential,
      medians,
      ratio: {
        delivered: medians.gatewayDelivered / medians.direct,
        placed: medians.gatewayPlaced / medians.direct,
        deliveredOverRecord: medians.gatewayDelivered / medians.directWithRecord,
      },
      ...(options.profile ? { dataDir: world.dataDir } : {}),
    };
  } finally {
    await world?.stop();
    await proxy.close();
  }
}

/**
 * A transaction the gateway sent, made new: the placer order number and every request id it derived
 * (`req-<hex>`) get a suffix, so each conditional create creates instead of matching what the gateway stored.
 */
function withFreshIdentifiers(bundle: Bundle, traffic: Traffic, tag: string): Bundle {
  const fresh = JSON.parse(
    JSON.stringify(bundle)
      .replaceAll(/req-[0-9a-f]{32}/g, (id) => `${id}${tag}`)
      .replaceAll(traffic.prefix, `${traffic.prefix}${tag}`),
  ) as Bundle;
  // The replayed outbox Task keeps its size and index entries, but not the poll's key: the gateway
  // beside it must not send the replayed orders (that would load HAPI during its next round).
  for (const entry of fresh.entry ?? []) {
    const task = entry.resource?.resourceType === 'Task' ? entry.resource : undefined;
    for (const coding of task?.businessStatus?.coding ?? [])
      if (coding.system === OPEN_DELIVERY.system && coding.code === OPEN_DELIVERY.code) coding.code = 'replayed';
  }
  return fresh;
}

/**
 * The round's order transactions, and the record of their deliveries, as the gateway sent them. The last
 * outcomes are written just after the midlands holds the orders, so this waits (up to 30 s) until each
 * delivery's outcome has gone by.
 */
async function roundWrites(proxy: CountingProxy, partition: string): Promise<{ orders: Bundle[]; records: Bundle[] }> {
  const sent = proxy.takeTransactions(partition);
  const orders = sent.filter((bundle) => bundle.entry?.some((e) => e.resource?.resourceType === 'ServiceRequest'));
  const wanted = new Set(orders.flatMap(queuedRequestIds));
  const records = recordsOf(sent.filter(isRecordTransaction), wanted);
  const recorded = () => new Set(records.flatMap(requestIdsOf)).size;
  for (const deadline = Date.now() + 30_000; recorded() < wanted.size; ) {
    if (Date.now() > deadline)
      throw new Error(`the gateway wrote the record of ${recorded()} of ${wanted.size} deliveries within 30 s`);
    await new Promise((r) => setTimeout(r, 100));
    records.push(...recordsOf(proxy.takeTransactions(partition).filter(isRecordTransaction), wanted));
  }
  return { orders, records };
}

/** Sends an order's transaction straight to HAPI; every create must create (fresh identifiers). */
async function replayOrder(direct: HttpStore, bundle: Bundle): Promise<Bundle> {
  const response = await direct.transaction(bundle);
  // Every create creates; the order's Patient PUT (the If-Match that asserts the patient it checked) is a 200.
  const created = (response.entry ?? []).every(
    (e, j) => bundle.entry?.[j]?.request?.method !== 'POST' || e.response?.status?.startsWith('201'),
  );
  if (!created) throw new Error('a replayed transaction matched what was there instead of creating it');
  return response;
}

/**
 * The orders' transactions straight to HAPI, `clients` at once, and beside them, in one lane as the
 * gateway's outbox writes them, the record of their deliveries, each batch once its outbox Tasks are stored.
 */
async function replayWithRecord(
  direct: HttpStore,
  orders: Bundle[],
  records: Bundle[],
  clients: number,
): Promise<void> {
  const stored: StoredOutboxTasks = new Map();
  let ordersDone = false;
  // The record lane sleeps until an order lane has stored something, rather than polling on the bench's core.
  let wake = () => {};
  const somethingStored = () => new Promise<void>((resolve) => (wake = resolve));
  const recordLane = (async () => {
    for (const record of records) {
      while (!requestIdsOf(record).every((id) => stored.has(id))) {
        if (ordersDone) throw new Error('a record names a delivery no replayed order queued');
        await somethingStored();
      }
      const sent = recordForDirect(record, stored);
      noteStoredOutboxTasks(stored, sent, await direct.transaction(sent));
    }
  })();
  const orderLanes = inParallel(orders.length, clients, async (i) => {
    const bundle = orders[i] as Bundle;
    noteStoredOutboxTasks(stored, bundle, await replayOrder(direct, bundle));
    wake();
  }).finally(() => {
    ordersDone = true;
    wake();
  });
  // Both awaited at once, so whichever fails first is the error reported, and the other's is not left unhandled.
  await Promise.all([orderLanes, recordLane]);
}

/** Requests per order, by kind; the total leaves out the safety job's, which run by the clock, not by order. */
/** HAPI's, the services' (together) and the bench's CPU per order since `before`. */
function roundCpu(cpu: ReturnType<typeof cpuMeter>, before: CpuSpent, orders: number): RoundCpu {
  const { services, bench, server } = cpu.perOrderSince(before, orders);
  return {
    ...(server === undefined ? {} : { hapi: server }),
    services: services.hub + services.north + services.midlands,
    bench,
  };
}

function perOrder(
  counts: Record<RequestKind, number>,
  orders: number,
): Record<RequestKind, number> & { total: number } {
  const out = { ...counts, total: 0 };
  for (const kind of Object.keys(counts) as RequestKind[]) {
    out[kind] = counts[kind] / Math.max(1, orders);
    if (kind !== 'safety') out.total += out[kind];
  }
  return out;
}

export function printGatewayVsDirect(title: string, result: GatewayVsDirectResult, load: number[]): void {
  const kinds = (r: Record<RequestKind, number> & { total: number }) =>
    (Object.keys(r) as (RequestKind | 'total')[])
      .filter((k) => k !== 'total' && r[k] > 0)
      .map((k) => `${k} ${r[k].toFixed(2)}`)
      .join(', ');
  console.log(`\n${title}, ${result.clients} clients (${loadLine(load)})`);
  console.log(
    table(
      [
        'side',
        'orders',
        'placed/s',
        'placed and sent/s',
        'HAPI requests/order',
        'by kind',
        'CPU ms/order HAPI / services / bench',
      ],
      result.rounds.map((r) => [
        r.side,
        r.orders,
        r.placedPerSecond,
        r.deliveredPerSecond ?? '',
        r.requestsPerOrder.total,
        kinds(r.requestsPerOrder),
        `${r.cpuMsPerOrder.hapi?.toFixed(1) ?? '–'} / ${r.cpuMsPerOrder.services.toFixed(1)} / ${r.cpuMsPerOrder.bench.toFixed(1)}`,
      ]),
    ),
  );
  console.log(
    `one order at a time: ${result.sequentialRequestsPerOrder.total.toFixed(2)} HAPI requests/order (${kinds(result.sequentialRequestsPerOrder)})`,
  );
  console.log(
    `medians: gateway ${result.medians.gatewayDelivered.toFixed(1)} placed and sent/s (${result.medians.gatewayPlaced.toFixed(1)} placed/s), direct ${result.medians.direct.toFixed(1)}/s; gateway/direct ${result.ratio.delivered.toFixed(2)}× (placed only ${result.ratio.placed.toFixed(2)}×)`,
  );
  console.log(
    `with the delivery's record replayed too: direct ${result.medians.directWithRecord.toFixed(1)}/s; gateway/(direct+record) ${result.ratio.deliveredOverRecord.toFixed(2)}×`,
  );
}

/** Cross-region delivery latency with both gateways storing in HAPI. */
export async function runHapiLatency(
  root: string,
  settings: { ratePerSecond: number; seconds: number },
): Promise<LatencyResult> {
  const partitions = await freshPartitions(root);
  return runLatency({
    ...settings,
    history: 0,
    // The hub stays on its embedded store: it seeds its directory with client-assigned ids, which HAPI
    // keeps unique across partitions, so a second hub partition on one server would refuse them.
    stores: { north: `${root}/${partitions.north}`, midlands: `${root}/${partitions.midlands}` },
  });
}
