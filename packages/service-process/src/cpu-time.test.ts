import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cpuTimeMs } from './cpu-time.ts';

describe.runIf(process.platform === 'linux')('cpuTimeMs', () => {
  it('counts the CPU this process spends', () => {
    const before = cpuTimeMs(process.pid) as number;
    const until = Date.now() + 100;
    while (Date.now() < until); // 100 ms of CPU, more than the 10 ms a clock tick is
    expect(cpuTimeMs(process.pid)).toBeGreaterThan(before);
  });

  it('is undefined for no process, and for one that has ended', () => {
    expect(cpuTimeMs(undefined)).toBeUndefined();
    const ended = spawnSync(process.execPath, ['-e', '']).pid;
    expect(cpuTimeMs(ended)).toBeUndefined();
  });
});
