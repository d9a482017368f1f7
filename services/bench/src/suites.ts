import { DESIGN_DAY_ORDERS, printReplay, replay } from './design-day.ts';
import type { ReplayResult } from './design-day.ts';
import { runHapiSuite } from './hapi-suite.ts';
import { runHttpLoad } from './http-load.ts';
import { runLatency } from './latency.ts';
import { loadAverage, median, table, writeReport } from './report.ts';
import { runStoreBench } from './store.ts';
import { runOutboxPoll } from './outbox-poll.ts';
import { prepareBaseline } from './baseline.ts';

export interface SuiteOptions {
  tiny: boolean;
  profile: boolean;
  /** A git ref whose services run beside this checkout's, in the same run, for a before/after ratio. */
  baseline?: string;
  /** Rounds of the design-day replay (each before/after, fresh and with history); medians are reported. */
  repeat?: number;
  /** Tasks in the store suite's stores. */
  storeSizes?: number[];
  orders?: number;
  history?: number;
  /**
   * The design-day replay with history only, no fresh rounds: a whole design day takes about half an hour,
   * so its history run is compared with a fresh run made just before it.
   */
  historyOnly?: boolean;
  hapiUrl?: string;
  /** The databases the HAPI suite starts HAPI on, one after the other (default both), when no URL is given. */
  hapiDatabases?: ('h2' | 'postgres')[];
  /** The HAPI suite pins the HAPI it starts to one CPU and the services to the others. */
  splitCores?: boolean;
}

/** A suite runs, prints its figures and returns the path of the report it wrote. */
export type Suite = (options: SuiteOptions) => Promise<string>;

const started = () => ({ at: new Date(), load: loadAverage() });

/** This checkout's services. */
const AFTER: { label: string; root?: string } = { label: 'this checkout' };

export const SUITES: Record<string, Suite> = {
  store: async (options) => {
    const start = started();
    const results = await runStoreBench(options.tiny ? [200] : (options.storeSizes ?? [5000, 20_000, 100_000]));
    return writeReport('store', options.tiny, start, results);
  },

  'outbox-poll': async (options) => {
    const start = started();
    const results = await runOutboxPoll(options.tiny ? [200] : (options.storeSizes ?? [5000, 20_000, 100_000]));
    return writeReport('outbox-poll', options.tiny, start, results);
  },

  'http-load': async (options) => {
    const start = started();
    const results = await runHttpLoad({
      concurrency: [1, 8, 32],
      seconds: options.tiny ? 0.5 : 10,
      history: options.tiny ? 0 : (options.history ?? 100_000),
    });
    return writeReport('http-load', options.tiny, start, results);
  },

  latency: async (options) => {
    const start = started();
    const baseline = options.baseline ? prepareBaseline(options.baseline) : undefined;
    const settings = {
      ratePerSecond: 10,
      seconds: options.tiny ? 1 : 60,
      history: options.tiny ? 0 : (options.history ?? 100_000),
    };
    const results = [
      ...(baseline
        ? [
            {
              version: `before (${baseline.commit.slice(0, 7)})`,
              ...(await runLatency({ ...settings, sourceRoot: baseline.root })),
            },
          ]
        : []),
      { version: AFTER.label, ...(await runLatency(settings)) },
    ];
    return writeReport('latency', options.tiny, start, results);
  },

  'design-day': async (options) => {
    const start = started();
    const orders = options.tiny ? 20 : (options.orders ?? 5000);
    const history = options.tiny ? 100 : (options.history ?? 100_000);
    const baseline = options.baseline ? prepareBaseline(options.baseline) : undefined;
    const versions = baseline
      ? [{ label: `before (${baseline.commit.slice(0, 7)})`, root: baseline.root }, AFTER]
      : [AFTER];
    const runs: (ReplayResult & { version: string })[] = [];
    // Before and after, fresh and with history, alternate (and repeat), so all see the same load on the
    // shared machine; the ratios are of medians. Which goes first swaps round by round (A B, B A): on a
    // machine whose load drifts, the second of a pair was measured up to ~10 % slower, whichever it was.
    // Fresh stores, then with history; `--history 0` runs the fresh rounds only, not each twice, and
    // `--history-only` the rounds with history only.
    const withFresh = history === 0 || !options.historyOnly;
    const withHistory = history > 0;
    const histories = [...(withFresh ? [0] : []), ...(withHistory ? [history] : [])];
    for (let round = 0; round < (options.tiny ? 1 : (options.repeat ?? 1)); round++)
      for (const h of histories)
        for (const version of round % 2 ? [...versions].reverse() : versions) {
          const run = await replay({
            orders,
            history: h,
            clients: 8,
            profile: options.profile,
            ...(version.root ? { sourceRoot: version.root } : {}),
          });
          runs.push({ version: version.label, ...run });
        }
    printReplay(`design-day replay: ${orders} orders north → hub → midlands, 8 clients`, runs, start.load);
    const of = (label: string, h: number) => runs.filter((r) => r.version === label && r.history === h);
    const rate = (label: string, h: number) => median(of(label, h).map((r) => r.deliveredPerSecond));
    const cpu = (label: string, h: number) =>
      median(of(label, h).map((r) => r.cpuMsPerOrder.north + r.cpuMsPerOrder.hub + r.cpuMsPerOrder.midlands));
    const ratios = {
      ...(withFresh && withHistory
        ? {
            /** Delivered rate with history over the fresh rate (both move with the machine's load). */
            historyRatio: rate(AFTER.label, history) / rate(AFTER.label, 0),
            /** CPU per order with history over fresh: what history costs, whatever the load. */
            historyCpuRatio: cpu(AFTER.label, history) / cpu(AFTER.label, 0),
          }
        : {}),
      ...(baseline
        ? {
            afterOverBefore: {
              ...(withFresh
                ? {
                    fresh: rate(AFTER.label, 0) / rate(versions[0]?.label as string, 0),
                    /** CPU per order of the three services, fresh: the figure a busy machine moves least. */
                    freshCpu: cpu(AFTER.label, 0) / cpu(versions[0]?.label as string, 0),
                  }
                : {}),
              ...(withHistory
                ? { history: rate(AFTER.label, history) / rate(versions[0]?.label as string, history) }
                : {}),
            },
          }
        : {}),
    };
    const medians = versions.flatMap((v) =>
      histories.map((h) => ({
        version: v.label,
        history: h,
        deliveredPerSecond: rate(v.label, h),
        cpuMsPerOrder: cpu(v.label, h),
        designDayMinutes: DESIGN_DAY_ORDERS / rate(v.label, h) / 60,
      })),
    );
    console.log(`medians of ${runs.length / medians.length} run(s) each:`);
    console.log(
      table(
        ['services', 'history', 'delivered/s', 'CPU ms/order (3 services)', '250k in min'],
        medians.map((m) => [m.version, m.history, m.deliveredPerSecond, m.cpuMsPerOrder, m.designDayMinutes]),
      ),
    );
    console.log(`ratios: ${JSON.stringify(ratios)}`);
    return writeReport('design-day', options.tiny, start, { runs, medians, ...ratios });
  },

  hapi: async (options) => {
    const start = started();
    if (options.tiny && !options.hapiUrl) {
      // Starting HAPI takes 1.5–3 minutes on this machine: the tiny run only measures a HAPI it is given.
      const why = 'tiny run without a HAPI base URL (--hapi <url> or HAPI_BASE_URL): HAPI side by side skipped';
      console.log(why);
      return writeReport('hapi', options.tiny, start, {}, why);
    }
    const results = await runHapiSuite({
      ...(options.hapiUrl ? { hapiUrl: options.hapiUrl } : {}),
      databases: options.hapiDatabases ?? ['h2', 'postgres'],
      tiny: options.tiny,
      ...(options.orders !== undefined ? { orders: options.orders } : {}),
      ...(options.repeat !== undefined ? { rounds: options.repeat } : {}),
      ...(options.baseline ? { baseline: options.baseline } : {}),
      ...(options.profile ? { profile: true } : {}),
      ...(options.splitCores ? { splitCores: true } : {}),
    });
    return writeReport('hapi', options.tiny, start, results);
  },
};
