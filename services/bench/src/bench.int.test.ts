import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReplayResult } from './design-day.ts';
import { diskReading } from './disk-meter.ts';
import { readReport, REPORT_DIR, REPO_ROOT } from './report.ts';
import { SUITES } from './suites.ts';

/**
 * The benchmarks are not tests: no timing is asserted here, ever. This runs every suite once at its
 * tiny size (`pnpm bench --tiny`: real processes, real sockets) so that none of them rots, and checks
 * only that each completed and wrote a well-formed report.
 */
/** `pnpm bench <args>` as a user runs it, from the repository's root. */
function bench(args: string[], timeout: number, env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [join(REPO_ROOT, 'services/bench/src/cli.ts'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env,
    timeout,
  });
}

describe('pnpm bench --tiny', () => {
  it('runs every suite and writes each one’s report', () => {
    const paths = Object.keys(SUITES).map((suite) => join(REPORT_DIR, `${suite}.tiny.json`));
    for (const path of paths) rmSync(path, { force: true });
    const run = bench(['--tiny'], 280_000, { ...process.env, HAPI_BASE_URL: '' });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    for (const [i, suite] of Object.keys(SUITES).entries()) {
      const path = paths[i] as string;
      expect(existsSync(path), `${suite} wrote ${path}`).toBe(true);
      const report = readReport<unknown>(path);
      expect(report).toMatchObject({ suite, tiny: true });
      expect(report.machine.loadAverage.start).toHaveLength(3);
      expect(report.machine.loadAverage.end).toHaveLength(3);
      expect(report.results).toBeTypeOf('object');
      expect(run.stdout).toContain(`${suite}: report written to ${path}`);
    }
    // With no HAPI base URL, the side-by-side suite says so and measures nothing.
    expect(readReport(paths[Object.keys(SUITES).indexOf('hapi')] as string).skipped).toMatch(/HAPI/);
    expect(run.stdout).toMatch(/load average \d/);
  });

  it('refuses to split the cores around a HAPI it did not start, before running anything', () => {
    const run = bench(['--suite', 'hapi', '--split-cores', '--hapi', 'http://127.0.0.1:9/fhir'], 30_000);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--split-cores pins the HAPI the hapi suite starts');
    expect(run.stdout).not.toContain('== hapi');
  });

  it('runs the design-day replay with history only when asked, and then reports no history ratio', () => {
    const path = join(REPORT_DIR, 'design-day.tiny.json');
    rmSync(path, { force: true });
    const run = bench(['--tiny', '--suite', 'design-day', '--history-only'], 120_000);
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const { results } = readReport<{ runs: ReplayResult[]; historyRatio?: number }>(path);
    expect(results.runs.map((r) => r.history)).toEqual([100]);
    expect(results).not.toHaveProperty('historyRatio');
    // The disk's waits sit beside the CPU's wherever the kernel reports them (Linux with PSI).
    const [round] = results.runs;
    if (diskReading()) {
      expect(round?.machineIoStalled).toBeGreaterThanOrEqual(0);
      expect(round?.machineIoStalled).toBeLessThanOrEqual(1);
      expect(round?.diskReadKibPerOrder).toBeGreaterThanOrEqual(0);
    } else expect(round).not.toHaveProperty('machineIoStalled');
  });
});
