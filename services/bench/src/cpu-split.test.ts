import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { allowedCpus, pinProcess, splitCpus } from './cpu-split.ts';

describe('splitting the CPUs between a server and its clients', () => {
  it('gives the server the last CPU and the clients the others', () => {
    expect(splitCpus(2)).toEqual({ server: '1', rest: '0' });
    expect(splitCpus(3)).toEqual({ server: '2', rest: '0-1' });
    expect(splitCpus(8)).toEqual({ server: '7', rest: '0-6' });
  });

  it('refuses a machine with fewer than two CPUs', () => {
    expect(() => splitCpus(1)).toThrow('at least 2, and there are 1');
    expect(() => splitCpus(0)).toThrow('at least 2');
  });
});

describe('pinning a process', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill();
    child = undefined;
  });

  it('pins every thread of a running process, those it has already started included', async () => {
    // A Node process has threads of its own (V8's and libuv's) from the start.
    child = spawn(process.execPath, ['-e', 'console.log("up"); setInterval(() => {}, 1000)'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const pid = child.pid as number;
    await new Promise((up) => child?.stdout?.once('data', up));
    const threads = () => readdirSync(`/proc/${pid}/task`).map(Number);

    pinProcess(pid, '0');

    expect(allowedCpus(pid)).toBe('0');
    expect(threads().length).toBeGreaterThan(1);
    for (const tid of threads()) expect(allowedCpus(pid, tid), `thread ${tid}`).toBe('0');
  });

  it('says why when it cannot pin', () => {
    // Past the kernel's largest pid: no such process.
    expect(() => pinProcess(2 ** 22 + 1, '0')).toThrow(
      'cannot pin process 4194305 to CPU 0: there is no process 4194305',
    );
  });
});
