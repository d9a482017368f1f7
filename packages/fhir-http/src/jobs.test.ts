import { memoryLogger } from '@imaging/fhir';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startJob } from './jobs.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('startJob', () => {
  it('runs every interval, and at once when woken', async () => {
    vi.useFakeTimers();
    let runs = 0;
    const job = startJob({ name: 'pass', intervalMs: 1000, logger: memoryLogger(), run: async () => void runs++ });
    await vi.advanceTimersByTimeAsync(999);
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toBe(1);
    job.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(2);
    await job.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runs).toBe(2);
  });

  it('never runs two passes at once: a wake during a pass makes one more pass after it', async () => {
    vi.useFakeTimers();
    let active = 0;
    let most = 0;
    let runs = 0;
    let release: () => void = () => {};
    const job = startJob({
      name: 'pass',
      intervalMs: 1000,
      logger: memoryLogger(),
      run: () => {
        runs++;
        active++;
        most = Math.max(most, active);
        return new Promise<void>((done) => {
          release = () => {
            active--;
            done();
          };
        });
      },
    });
    job.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    job.wake();
    job.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(2);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(most).toBe(1);
    await job.stop();
  });

  it('schedules a woken pass, never runs it inside the caller, and runs one pass for wakes in a row', async () => {
    vi.useFakeTimers();
    let runs = 0;
    const job = startJob({ name: 'pass', intervalMs: 1000, logger: memoryLogger(), run: async () => void runs++ });
    job.wake();
    job.wake();
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    await job.stop();
  });

  it('logs a failed pass and carries on', async () => {
    vi.useFakeTimers();
    const logger = memoryLogger();
    let runs = 0;
    const job = startJob({
      name: 'delivery pass',
      intervalMs: 100,
      logger,
      run: async () => {
        runs++;
        if (runs === 1) throw new Error('store closed');
      },
    });
    await vi.advanceTimersByTimeAsync(250);
    expect(runs).toBe(2);
    expect(logger.entries).toEqual([expect.objectContaining({ level: 'error', message: 'delivery pass failed' })]);
    await job.stop();
  });
});
