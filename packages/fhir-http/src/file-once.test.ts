import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileOnce } from './file-once.ts';
import { loadOrCreateSecret } from './secret-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'file-once-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('createFileOnce', () => {
  it('creates the file owner-only with its content, once, and leaves nothing beside it', () => {
    const file = join(dir, 'a', 'secret');
    expect(createFileOnce(file, 'first\n')).toBe(true);
    expect(createFileOnce(file, 'second\n')).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('first\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'a'))).toEqual(['secret']);
  });
});

describe('loadOrCreateSecret', () => {
  it('reads the secret a file holds, and refuses a file left empty', () => {
    const file = join(dir, 'held');
    writeFileSync(file, 'kept\n');
    expect(loadOrCreateSecret(file)).toBe('kept');
    writeFileSync(file, '');
    expect(() => loadOrCreateSecret(file)).toThrow(/is empty/);
  });

  it('gives replicas starting at once one secret, and none of them an empty file', async () => {
    // Threads call it at the same moment; writing the file in place (open, then write) let a second
    // process read it between the two, empty, and fail to start (seen in CI with two gateway replicas).
    // Fresh threads every round, each loading the module: their first, cold call is what widens the
    // window enough to catch the race (threads started once and reused passed the old code 3 times in 3).
    // 120 thread starts take about 10 s on a slow machine, more than the default 5 s.
    const url = new URL('./secret-file.ts', import.meta.url).href;
    for (let round = 0; round < 20; round++) {
      const file = join(dir, `race-${round}`, 'page-token.secret');
      const start = new Int32Array(new SharedArrayBuffer(4));
      const workers = Array.from({ length: 6 }, () => {
        const worker = new Worker(
          `const { workerData, parentPort } = require('node:worker_threads');
           import(workerData.url).then(({ loadOrCreateSecret }) => {
             parentPort.postMessage({ ready: true });
             Atomics.wait(workerData.start, 0, 0); // until the test lets them all go at once
             try { parentPort.postMessage({ secret: loadOrCreateSecret(workerData.file) }); }
             catch (err) { parentPort.postMessage({ error: String(err) }); }
           });`,
          { eval: true, workerData: { url, file, start } },
        );
        const ready = new Promise<void>((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', reject);
        });
        return { worker, ready };
      });
      await Promise.all(workers.map((w) => w.ready));
      const answers = workers.map(
        ({ worker }) =>
          new Promise<{ secret?: string; error?: string }>((resolve, reject) => {
            worker.once('message', (answer) => {
              resolve(answer);
              void worker.terminate();
            });
            worker.once('error', reject);
          }),
      );
      Atomics.store(start, 0, 1);
      Atomics.notify(start, 0);
      const secrets = await Promise.all(answers);
      expect(secrets.filter((s) => s.error)).toEqual([]);
      expect(new Set(secrets.map((s) => s.secret)).size).toBe(1);
    }
  }, 60_000);
});
