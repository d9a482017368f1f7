import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { devTokenSource } from '@imaging/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePortBase, REPO_ROOT } from './world.ts';

// The pathway through HAPI FHIR's Java client (IGenericClient 8.8, as it comes), against a clean demo
// topology of real processes: what a Java EPR or RIS sends, with its own headers and encodings, must work
// end to end. The client is built with Maven (as the conformance suite builds HAPI itself), from
// services/demo/clients/hapi-java; its steps are listed in HapiJavaPathway.run().
const run = promisify(execFile);
const CLIENT_DIR = join(REPO_ROOT, 'services/demo/clients/hapi-java');
const MAIN = join(import.meta.dirname, 'main.ts');
const STEPS = 19;

const dataDir = mkdtempSync(join(tmpdir(), 'imaging-hapi-java-'));
let portBase = 0;
let demo: ChildProcess;
let out = '';

/** Offline first, as infra/hapi-fhir/run.sh does: a machine that has built it once needs no network. */
async function buildClient(): Promise<void> {
  const mvn = (offline: boolean) =>
    run('mvn', ['-q', '-B', ...(offline ? ['-o'] : []), 'package'], { cwd: CLIENT_DIR, maxBuffer: 16 << 20 });
  try {
    await mvn(true);
  } catch {
    await mvn(false).catch((err: Error & { stdout?: string }) => {
      throw new Error(`building the HAPI client needs Java 17 and Maven (README): ${err.message}\n${err.stdout ?? ''}`);
    });
  }
}

async function startTopology(): Promise<void> {
  portBase = await freePortBase();
  demo = spawn(process.execPath, [MAIN, '--no-scenario', '--port-base', String(portBase), '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  demo.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const exited = new Promise<false>((resolve) => demo.once('exit', () => resolve(false)));
  const ready = (async () => {
    while (!out.includes('Every request of the API')) await new Promise((resolve) => setTimeout(resolve, 100));
    return true;
  })();
  if (!(await Promise.race([exited, ready]))) throw new Error(`the demo ended before it was ready:\n${out}`);
}

beforeAll(async () => {
  await Promise.all([buildClient(), startTopology()]);
}, 300_000);

afterAll(() => {
  if (demo?.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe("HAPI FHIR's Java client, against the gateways", () => {
  it('places an order in the north, works and reports it in the midlands, and acknowledges the alert', async () => {
    const hubUrl = `http://127.0.0.1:${portBase}`;
    const token = async (clientId: string) => (await devTokenSource(clientId, { hubUrl, dataDir })).getToken();
    const args = [
      '-cp',
      'target/lib/*:target/classes',
      'org.imagingconnect.clients.HapiJavaPathway',
      `http://127.0.0.1:${portBase + 101}/fhir`,
      await token('gp-n81001'),
      `http://127.0.0.1:${portBase + 102}/fhir`,
      await token('ris-rm1'),
    ];
    const answer = await run('java', args, { cwd: CLIENT_DIR, timeout: 120_000 }).catch(
      (err: Error & { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? '' }),
    );
    const lines = answer.stdout.trim().split('\n');
    expect(
      lines.filter((line) => !line.startsWith('PASS ')),
      answer.stderr,
    ).toEqual([]);
    expect(lines).toHaveLength(STEPS);
  });
});
