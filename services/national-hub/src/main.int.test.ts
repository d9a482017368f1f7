import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { devTokenSource } from '@imaging/auth';
import { devTopology, peopleOf } from '@imaging/config';
import { SqliteStore } from '@imaging/fhir';
import { afterAll, describe, expect, it } from 'vitest';
import { deadUrl, tempDataDir } from './testing/index.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
/** What the hub seeds its directory with: one Organization and one Endpoint per region, one Organization per ODS code. */
const DIRECTORY_SIZE =
  devTopology().regions.length * 2 + devTopology().organisations.length + peopleOf(devTopology()).length * 2;
const temp = tempDataDir();
const children: ChildProcess[] = [];
afterAll(() => {
  // A failed test must not leave a hub running.
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  temp.remove();
});
// Each start loads the FHIR definitions and makes keys: seconds on a busy machine, not a timing check.
const PROCESS_TEST_TIMEOUT_MS = 60_000;

interface Run {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  stderr: string[];
  exited: Promise<number | null>;
  /** Resolves with the first log line with this message. */
  logged(message: string): Promise<Record<string, unknown>>;
}

function start(env: Record<string, string>): Run {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const waiting: { message: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const w of waiting.filter((w) => w.message === line.message)) w.resolve(line);
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    stderr,
    exited,
    logged: (message) =>
      new Promise((resolve, reject) => {
        const seen = lines.find((l) => l.message === message);
        if (seen) return resolve(seen);
        waiting.push({ message, resolve });
        void exited.then((code) =>
          reject(new Error(`the hub exited (${code}) before logging '${message}': ${stderr.join('')}`)),
        );
      }),
  };
}

describe('the hub process', () => {
  it(
    'refuses to start on bad configuration, naming every bad variable',
    async () => {
      const run = start({ IMAGING_DATA_DIR: temp.dir, PORT: 'eighty', TOKEN_TTL: 'forever' });
      expect(await run.exited).toBe(1);
      const text = run.stderr.join('');
      expect(text).toMatch(/PORT:/);
      expect(text).toMatch(/TOKEN_TTL:/);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'stops on a topology value its directory cannot hold, naming it, and stores nothing',
    async () => {
      const topology = devTopology();
      const [organisation] = topology.organisations;
      if (!organisation) throw new Error('the dev topology has organisations');
      organisation.name = '';
      const dataDir = join(temp.dir, 'bad-topology');
      const file = join(temp.dir, 'bad-topology.json');
      writeFileSync(file, JSON.stringify(topology));
      const run = start({ IMAGING_DATA_DIR: dataDir, TOPOLOGY_FILE: file, PORT: new URL(await deadUrl()).port });
      expect(await run.exited).toBe(1);
      expect(run.stderr.join('')).toContain(`Organisation ${organisation.ods}: name "" is not an R4 string`);
      const store = new SqliteStore({ path: join(dataDir, 'hub', 'fhir.sqlite') });
      expect((await store.search('Organization', {})).resources).toEqual([]);
      await store.close();
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'serves, issues real tokens, stops on SIGTERM, and restarts on the same store without re-seeding',
    async () => {
      const url = await deadUrl();
      const env = { IMAGING_DATA_DIR: temp.dir, PORT: new URL(url).port, PUBLIC_URL: url };

      const first = start(env);
      expect(await first.logged('directory seeded')).toMatchObject({ written: DIRECTORY_SIZE, unchanged: 0 });
      await first.logged('listening');
      expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok' });
      const tokens = await devTokenSource('gateway-south', { hubUrl: url, dataDir: temp.dir });
      const res = await fetch(`${url}/fhir/Endpoint/imaging-south`, {
        headers: { Authorization: `Bearer ${await tokens.getToken()}` },
      });
      expect(res.status).toBe(200);
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(first.lines.map((l) => l.message)).toContain('shutting down');

      const second = start(env);
      expect(await second.logged('directory seeded')).toMatchObject({ written: 0, unchanged: DIRECTORY_SIZE });
      await second.logged('listening');
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
