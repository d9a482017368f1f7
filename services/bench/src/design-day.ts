import type { BenchService } from './topology.ts';
import { startBenchTopology } from './topology.ts';
import { cpuMeter } from './cpu-meter.ts';
import { diskReading, diskWaitsBetween } from './disk-meter.ts';
import { busyBetween, cpuTimes, loadAverage, loadLine, maximum, median, quantile, table } from './report.ts';
import { connectTraffic, deliveryLatencies, inParallel, placeOrder, waitForDeliveries } from './traffic.ts';
import type { Placed } from './traffic.ts';

/** England's design day: imaging orders that cross regions, north → hub → midlands. */
export const DESIGN_DAY_ORDERS = 250_000;

export interface ReplayOptions {
  orders: number;
  /** Tasks of history in each gateway's store before the run. */
  history: number;
  /** Clients placing orders at once, each waiting for its answer. */
  clients: number;
  /** Run the services under `node --cpu-prof` (profiles kept in the data dir). */
  profile?: boolean;
  /** Run the services from another checkout (a baseline). */
  sourceRoot?: string;
}

export interface ReplayResult {
  orders: number;
  history: number;
  clients: number;
  delivered: number;
  missing: number;
  duplicated: number;
  /** Orders the north gateway accepted per second. */
  placedPerSecond: number;
  /** Orders that reached the midlands per second, from the first order placed to the last delivered. */
  deliveredPerSecond: number;
  /** Minutes for the design day's 250k orders at that rate. */
  designDayMinutes: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** Share of all the machine's CPUs busy during the run (other users' work included). */
  machineCpuBusy?: number;
  /** Share of the run during which every runnable task waited on I/O, machine-wide (disk-meter.ts). */
  machineIoStalled?: number;
  /** KiB the machine read from disk per order: pages the page cache no longer held, read back. */
  diskReadKibPerOrder?: number;
  /** CPU milliseconds each service spent per order. */
  cpuMsPerOrder: Record<BenchService, number>;
  /**
   * CPU milliseconds per order of this process: the clients placing the orders and the count of the
   * midlands' orders it polls. On the same cores as the services, so it is part of what limits the rate.
   */
  clientsCpuMsPerOrder: number;
  dataDir?: string;
}

/**
 * The design-day replay, scaled: `orders` orders placed in the north by `clients` clients as fast as the
 * gateway answers, then waited for in the midlands. The rate is delivered orders per second, end to end.
 */
export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const world = await startBenchTopology({
    history: options.history,
    ...(options.profile ? { profile: true } : {}),
    ...(options.sourceRoot ? { sourceRoot: options.sourceRoot } : {}),
  });
  try {
    const traffic = await connectTraffic(
      world,
      Math.min(1000, Math.max(1, Math.ceil(options.orders / 2))),
      options.clients,
    );
    const cpu = cpuMeter(world);
    const cpu0 = cpu.now();
    const machine0 = cpuTimes();
    const disk0 = diskReading();
    const began = Date.now();
    const placed: Placed[] = [];
    await inParallel(options.orders, options.clients, async (n) => {
      placed.push(await placeOrder(traffic, n));
    });
    const placedAt = Date.now();
    const done = await waitForDeliveries(world, options.orders, 120_000 + options.orders * 50);
    const spent = cpu.perOrderSince(cpu0, options.orders);
    const machine1 = cpuTimes();
    const disk1 = diskReading();
    const { latencies, missing, duplicated } = await deliveryLatencies(world, placed);
    const seconds = (done.at - began) / 1000;
    const deliveredPerSecond = done.delivered / seconds;
    const busy = busyBetween(machine0, machine1);
    const disk = diskWaitsBetween(disk0, disk1, seconds, options.orders);
    return {
      orders: options.orders,
      history: options.history,
      clients: options.clients,
      delivered: done.delivered,
      missing,
      duplicated,
      placedPerSecond: options.orders / ((placedAt - began) / 1000),
      deliveredPerSecond,
      designDayMinutes: DESIGN_DAY_ORDERS / deliveredPerSecond / 60,
      latencyMs: {
        p50: median(latencies),
        p95: quantile(latencies, 0.95),
        p99: quantile(latencies, 0.99),
        max: maximum(latencies),
      },
      ...(busy === undefined ? {} : { machineCpuBusy: busy }),
      ...(disk ? { machineIoStalled: disk.ioStalled, diskReadKibPerOrder: disk.readKibPerOrder } : {}),
      cpuMsPerOrder: spent.services,
      clientsCpuMsPerOrder: spent.bench,
      ...(options.profile ? { dataDir: world.dataDir } : {}),
    };
  } finally {
    await world.stop();
  }
}

export function replayTable(results: (ReplayResult & { version?: string })[]): string {
  return table(
    [
      'services',
      'orders',
      'history',
      'placed/s',
      'delivered/s',
      '250k in min',
      'p50 ms',
      'p99 ms',
      'missing',
      'dup',
      'CPU busy',
      'IO stalled',
      'disk read KiB/order',
      'CPU ms/order north/hub/midlands',
      'clients CPU ms/order',
    ],
    results.map((r) => [
      r.version ?? 'this checkout',
      r.orders,
      r.history,
      r.placedPerSecond,
      r.deliveredPerSecond,
      r.designDayMinutes,
      r.latencyMs.p50,
      r.latencyMs.p99,
      r.missing,
      r.duplicated,
      percent(r.machineCpuBusy),
      percent(r.machineIoStalled),
      r.diskReadKibPerOrder ?? '–',
      `${r.cpuMsPerOrder.north.toFixed(1)} / ${r.cpuMsPerOrder.hub.toFixed(1)} / ${r.cpuMsPerOrder.midlands.toFixed(1)}`,
      r.clientsCpuMsPerOrder.toFixed(1),
    ]),
  );
}

function percent(share: number | undefined): string {
  return share === undefined ? '–' : `${Math.round(share * 100)}%`;
}

export function printReplay(title: string, results: (ReplayResult & { version?: string })[], load: number[]): void {
  console.log(`\n${title} (${loadLine(load)})`);
  console.log(replayTable(results));
  const best = results.at(-1);
  if (best)
    console.log(
      `extrapolated: ${DESIGN_DAY_ORDERS.toLocaleString('en-GB')} orders in ${best.designDayMinutes.toFixed(0)} min at ${best.deliveredPerSecond.toFixed(1)} orders/s (load now ${loadAverage()[0]?.toFixed(2)})`,
    );
}
