import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SCENARIO } from './demo.ts';
import { isPortFree } from '@imaging/service-process';
import { freePortBase } from './world.ts';

const MAIN = join(import.meta.dirname, 'main.ts');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs the real demo (`node main.ts …`) to the end; its stdout, stderr, exit code and wall time.
 * `interruptWhen` sends it SIGINT (Ctrl-C) as soon as its output contains that text.
 */
function runDemo(
  args: string[],
  interruptWhen?: string,
): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  const began = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let interrupted = false;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (interruptWhen && !interrupted && out.includes(interruptWhen)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, out, err, ms: performance.now() - began }));
  });
}

function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'imaging-demo-'));
  dirs.push(dir);
  return dir;
}

const lastLine = (text: string) => text.trimEnd().split('\n').at(-1);

describe('the demo, end to end (real processes, sockets, tokens and stores)', () => {
  it('runs every step of the reference scenario and verifies it against the stores', async () => {
    const portBase = await freePortBase();
    const dataDir = tempDataDir();
    const run = await runDemo(['--port-base', String(portBase), '--data-dir', dataDir]);
    const summary = /^demo: (\d+)\/(\d+) steps passed$/.exec(lastLine(run.out) ?? '');
    if (run.code !== 0) console.log(run.out, run.err);
    expect(run.code).toBe(0);
    expect(summary).not.toBeNull();
    const [passed, total] = [Number(summary?.[1]), Number(summary?.[2])];
    expect(passed).toBe(total);
    expect(total).toBe(SCENARIO.length);
    expect(total).toBeGreaterThanOrEqual(15);

    // What the scenario is about was verified (and printed) step by step.
    for (const evidence of [
      "the Task's history: requested → accepted → in-progress → completed",
      'pointers: DiagnosticReport@midlands, ImagingStudy@midlands',
      'nothing copied: no ImagingStudy in the hub or the south store',
      'exactly one copy of N81001-',
      'no delivery left pending or failed in any region',
      'AuditEvent alert-escalated requester → delegate, not before the due time',
      'never escalated: the loop is closed at the source',
    ]) {
      expect(run.out).toContain(evidence);
    }
    expect(run.out.match(/step \d+\/\d+ PASSED/g)).toHaveLength(total);

    // Everything it started is stopped; each service logged to the data dir.
    for (const port of [portBase, portBase + 101, portBase + 102, portBase + 103])
      expect(await isPortFree(port, '127.0.0.1')).toBe(true);
    for (const name of ['hub', 'north', 'midlands', 'south'])
      expect(existsSync(join(dataDir, 'logs', `${name}.log`))).toBe(true);
    console.log(`demo run: ${(run.ms / 1000).toFixed(1)} s (${total} steps)`);
  });

  it('stops at once with a clear message when a port is taken, and starts nothing', async () => {
    const portBase = await freePortBase();
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(portBase + 102, '127.0.0.1', resolve));
    try {
      const run = await runDemo(['--port-base', String(portBase), '--data-dir', tempDataDir()]);
      expect(run.code).toBe(1);
      expect(run.out).toContain(`port ${portBase + 102} on 127.0.0.1 (for the midlands gateway) is already in use`);
      expect(lastLine(run.out)).toBe(`demo: 0/${SCENARIO.length} steps passed`);
      for (const port of [portBase, portBase + 101, portBase + 103])
        expect(await isPortFree(port, '127.0.0.1')).toBe(true);
    } finally {
      squatter.close();
    }
  });

  it('with a port taken, leaves the data dir of a demo still running there as it is, and does not stay up', async () => {
    const portBase = await freePortBase();
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(portBase, '127.0.0.1', resolve));
    const dataDir = tempDataDir();
    // What a demo already running on these ports holds: its marker and its keys.
    writeFileSync(join(dataDir, '.imaging-demo'), 'Made by the imaging-connect demo\n');
    writeFileSync(join(dataDir, 'keys-of-the-running-demo'), 'kept');
    try {
      const run = await runDemo(['--no-scenario', '--port-base', String(portBase), '--data-dir', dataDir]);
      expect(run.code).toBe(1);
      expect(run.out).toContain(`nothing started, and ${dataDir} left as it is`);
      expect(run.out).toContain(`port ${portBase} on 127.0.0.1 (for the national hub) is already in use`);
      expect(run.out).not.toContain('still running');
      expect(lastLine(run.out)).toBe('demo: 0/1 steps passed');
      expect(readFileSync(join(dataDir, 'keys-of-the-running-demo'), 'utf8')).toBe('kept');
    } finally {
      squatter.close();
    }
  });

  it('on Ctrl-C mid-scenario, stops every process it started and reports how far it got', async () => {
    const portBase = await freePortBase();
    const run = await runDemo(
      ['--port-base', String(portBase), '--data-dir', tempDataDir()],
      `step 2/${SCENARIO.length} PASSED`,
    );
    expect(run.code).toBe(130);
    expect(run.out).toContain('SIGINT: stopping the hub and the gateways');
    const summary = /^demo: (\d+)\/(\d+) steps passed$/.exec(lastLine(run.out) ?? '');
    expect(Number(summary?.[1])).toBeGreaterThanOrEqual(2);
    expect(Number(summary?.[1])).toBeLessThan(Number(summary?.[2]));
    for (const port of [portBase, portBase + 101, portBase + 102, portBase + 103])
      expect(await isPortFree(port, '127.0.0.1')).toBe(true);
  });

  it('answers a bad option with the usage and exit code 2', async () => {
    const run = await runDemo(['--port-base', 'lots']);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/--port-base must be a port[\s\S]*Usage: npm run demo/);
    expect(lastLine(run.out)).toBe(`demo: 0/${SCENARIO.length} steps passed`);
  });
});
