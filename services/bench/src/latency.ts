import { loadAverage, loadLine, maximum, median, quantile, table } from './report.ts';
import { startBenchTopology } from './topology.ts';
import type { TopologyOptions } from './topology.ts';
import { connectTraffic, deliveryLatencies, placeOrder, waitForDeliveries } from './traffic.ts';
import type { Placed } from './traffic.ts';

export interface LatencyOptions {
  ratePerSecond: number;
  seconds: number;
  history: number;
  /** Run the services from another checkout (a baseline). */
  sourceRoot?: string;
  /** FHIR bases (HAPI partitions) for the services' stores instead of embedded ones. */
  stores?: TopologyOptions['stores'];
}

export interface LatencyResult {
  ratePerSecond: number;
  history: number;
  orders: number;
  missing: number;
  duplicated: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
}

/**
 * Cross-region delivery latency at a steady offered rate (an open loop: orders are placed on a
 * schedule, not when the last one is answered): from the north storing an order to the midlands
 * storing its copy, both by their stores' own clocks (meta.lastUpdated, on this one machine).
 */
export async function runLatency(options: LatencyOptions): Promise<LatencyResult> {
  const load = loadAverage();
  const world = await startBenchTopology({
    history: options.history,
    ...(options.sourceRoot ? { sourceRoot: options.sourceRoot } : {}),
    ...(options.stores ? { stores: options.stores } : {}),
  });
  try {
    const orders = Math.max(1, Math.round(options.ratePerSecond * options.seconds));
    const traffic = await connectTraffic(world, Math.min(orders, 500), 4);
    const began = performance.now();
    const placing: Promise<Placed>[] = [];
    for (let n = 0; n < orders; n++) {
      const due = began + (n * 1000) / options.ratePerSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      placing.push(placeOrder(traffic, n));
    }
    const placed = await Promise.all(placing);
    await waitForDeliveries(world, orders, 120_000);
    const { latencies, missing, duplicated } = await deliveryLatencies(world, placed);
    const result: LatencyResult = {
      ratePerSecond: options.ratePerSecond,
      history: options.history,
      orders,
      missing,
      duplicated,
      latencyMs: {
        p50: median(latencies),
        p95: quantile(latencies, 0.95),
        p99: quantile(latencies, 0.99),
        max: maximum(latencies),
      },
    };
    console.log(
      `\ndelivery latency north → hub → midlands at ${options.ratePerSecond} orders/s, ${options.history} Tasks of history${options.sourceRoot ? ` (services from ${options.sourceRoot})` : ''}${options.stores ? ` (stores ${Object.values(options.stores).join(', ')})` : ''} (${loadLine(load)})`,
    );
    console.log(
      table(
        ['orders', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'missing', 'dup'],
        [
          [
            orders,
            result.latencyMs.p50,
            result.latencyMs.p95,
            result.latencyMs.p99,
            result.latencyMs.max,
            missing,
            duplicated,
          ],
        ],
      ),
    );
    return result;
  } finally {
    await world.stop();
  }
}
