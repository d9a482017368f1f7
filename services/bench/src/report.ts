import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
export const REPORT_DIR = join(REPO_ROOT, 'reports/bench');

/** What every report carries: when, on what, and how busy the machine was (the figures are noisy). */
export interface Machine {
  at: string;
  node: string;
  cpus: number;
  /** 1, 5 and 15 minute load averages when the suite started and when it ended. */
  loadAverage: { start: number[]; end: number[] };
}

export interface SuiteReport<T> {
  suite: string;
  tiny: boolean;
  machine: Machine;
  /** Why the suite measured nothing (HAPI not given), when it skipped. */
  skipped?: string;
  results: T;
}

export function loadAverage(): number[] {
  return loadavg().map((l) => Math.round(l * 100) / 100);
}

export function loadLine(load: number[]): string {
  return `load average ${load.map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} CPUs`;
}

/** Writes `reports/bench/<suite>.json` and returns its path. */
export function writeReport<T>(
  suite: string,
  tiny: boolean,
  started: { at: Date; load: number[] },
  results: T,
  skipped?: string,
): string {
  const report: SuiteReport<T> = {
    suite,
    tiny,
    machine: {
      at: started.at.toISOString(),
      node: process.version,
      cpus: cpus().length,
      loadAverage: { start: started.load, end: loadAverage() },
    },
    ...(skipped ? { skipped } : {}),
    results,
  };
  mkdirSync(REPORT_DIR, { recursive: true });
  const path = join(REPORT_DIR, `${suite}${tiny ? '.tiny' : ''}.json`);
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}

export function readReport<T>(path: string): SuiteReport<T> {
  return JSON.parse(readFileSync(path, 'utf8')) as SuiteReport<T>;
}

/** The q-quantile (0..1) of some numbers, by nearest rank; NaN for none. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

export function median(values: number[]): number {
  return quantile(values, 0.5);
}

/** The largest value, by a loop: `Math.max(...values)` overflows the stack at a design day's 250k latencies. */
export function maximum(values: number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > max) max = v;
  return values.length === 0 ? Number.NaN : max;
}

/** A Markdown table, numbers right-aligned. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? format(c) : c)));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.every((r) => typeof r[i] === 'number'));
  const line = (r: string[]) =>
    `| ${r.map((c, i) => (numeric[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...cells.map(line)].join('\n');
}

function format(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (Number.isInteger(n)) return String(n);
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** Busy fraction of all CPUs between two readings of /proc/stat (Linux); undefined elsewhere. */
export function cpuTimes(): { busy: number; total: number } | undefined {
  try {
    const [, ...fields] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] as string).trim().split(/\s+/);
    const n = fields.map(Number);
    const idle = (n[3] ?? 0) + (n[4] ?? 0);
    const total = n.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

export function busyBetween(a: ReturnType<typeof cpuTimes>, b: ReturnType<typeof cpuTimes>): number | undefined {
  if (!a || !b || b.total === a.total) return undefined;
  return (b.busy - a.busy) / (b.total - a.total);
}
