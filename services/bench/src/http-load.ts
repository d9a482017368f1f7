import { SYSTEMS } from '@imaging/fhir';
import { loadAverage, loadLine, median, quantile, table } from './report.ts';
import { startBenchTopology } from './topology.ts';
import { connectTraffic, placeOrder, placerOf } from './traffic.ts';
import type { Traffic } from './traffic.ts';

export interface HttpLoadOptions {
  concurrency: number[];
  /** How long each workload runs at each concurrency. */
  seconds: number;
  history: number;
}

export interface HttpLoadRow {
  workload: string;
  concurrency: number;
  requests: number;
  errors: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** The gateway's requests a GP system makes, each one call. */
const WORKLOADS: Record<string, (traffic: Traffic, n: number, seeded: number) => Promise<unknown>> = {
  'read ServiceRequest': (t, n, seeded) =>
    t.gp.search('ServiceRequest', { identifier: `${SYSTEMS.placerOrder}|${placerOf(t, n % seeded)}` }),
  'search Task by focus': async (t, n, seeded) => {
    const [order] = await t.gp.search('ServiceRequest', {
      identifier: `${SYSTEMS.placerOrder}|${placerOf(t, n % seeded)}`,
    });
    return t.gp.search('Task', { focus: `ServiceRequest/${order?.id}` });
  },
  'place order (cross-region)': (t, n) => placeOrder(t, 1_000_000 + n),
};

/**
 * Closed-loop HTTP load on the north gateway (a small in-repo loop: each of `concurrency` workers sends
 * its next request when the last one is answered, for `seconds`), over real sockets with real tokens.
 */
export async function runHttpLoad(options: HttpLoadOptions): Promise<HttpLoadRow[]> {
  const load = loadAverage();
  const world = await startBenchTopology({ history: options.history });
  const rows: HttpLoadRow[] = [];
  try {
    const traffic = await connectTraffic(world, 50, 4);
    const seeded = 50;
    for (let n = 0; n < seeded; n++) await placeOrder(traffic, n);
    let counter = 0;
    for (const [workload, request] of Object.entries(WORKLOADS)) {
      for (const concurrency of options.concurrency) {
        const times: number[] = [];
        let errors = 0;
        const until = performance.now() + options.seconds * 1000;
        const began = performance.now();
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (performance.now() < until) {
              const t0 = performance.now();
              try {
                await request(traffic, counter++, seeded);
                times.push(performance.now() - t0);
              } catch {
                errors++;
              }
            }
          }),
        );
        const elapsed = (performance.now() - began) / 1000;
        rows.push({
          workload,
          concurrency,
          requests: times.length,
          errors,
          perSecond: times.length / elapsed,
          p50Ms: median(times),
          p99Ms: quantile(times, 0.99),
        });
      }
    }
  } finally {
    await world.stop();
  }
  console.log(`\nnorth gateway under HTTP load, ${options.history} Tasks of history (${loadLine(load)})`);
  console.log(
    table(
      ['workload', 'concurrency', 'requests', 'errors', 'req/s', 'p50 ms', 'p99 ms'],
      rows.map((r) => [r.workload, r.concurrency, r.requests, r.errors, r.perSecond, r.p50Ms, r.p99Ms]),
    ),
  );
  return rows;
}
