import type { Logger } from '@imaging/fhir';

export interface Job {
  /**
   * Run soon (after a change made work due) instead of waiting for the next tick: the pass is
   * scheduled, never run inside the caller, so a request that wakes the job does not wait for it.
   */
  wake(): void;
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

export interface JobOptions {
  name: string;
  intervalMs: number;
  logger: Logger;
  /** One pass. What to do is read from the store each time, so a restarted replica picks up where it stopped. */
  run: () => Promise<void>;
}

/**
 * A background job of a service: one pass at a time, every `intervalMs` and whenever woken. Its only
 * state is the timer. A pass that throws is logged, and the next one runs as usual.
 */
export function startJob(options: JobOptions): Job {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let woken = false;

  const pass = async (): Promise<void> => {
    try {
      await options.run();
    } catch (err) {
      options.logger.error(`${options.name} failed`, { error: err instanceof Error ? err.stack : String(err) });
    }
  };

  const run = (): void => {
    if (stopped) return;
    if (running) {
      again = true; // woken mid-pass: go round once more
      return;
    }
    clearTimeout(timer);
    running = pass().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        run();
      } else if (!stopped) timer = setTimeout(run, options.intervalMs);
    });
  };

  timer = setTimeout(run, options.intervalMs);
  return {
    wake() {
      if (woken || stopped) return;
      woken = true;
      setImmediate(() => {
        woken = false;
        run();
      });
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
