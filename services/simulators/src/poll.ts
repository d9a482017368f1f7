export interface PollOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** Wait between tries. */
  intervalMs?: number;
  /** What is awaited, for the error message. */
  what: string;
}

/** Thrown when a poll runs out of time; carries the last value seen (or the last error). */
export class PollTimeout extends Error {
  readonly last: unknown;
  constructor(what: string, timeoutMs: number, last: unknown) {
    const seen = last instanceof Error ? `last error: ${last.message}` : `last seen: ${describe(last)}`;
    super(`Timed out after ${timeoutMs} ms waiting for ${what} (${seen})`);
    this.name = 'PollTimeout';
    this.last = last;
  }
}

/** Thrown by a probe when waiting longer cannot help (e.g. the Task ended in another state): ends the poll at once. */
export class StopPolling extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StopPolling';
  }
}

/**
 * Asks `probe` until it returns something other than undefined, or the deadline passes. Things that
 * travel between services asynchronously are awaited this way, never with a fixed sleep. A probe that
 * throws is tried again (the service may be restarting); the last error is reported on timeout. A
 * probe that throws `StopPolling` ends it at once with that error.
 */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  const interval = options.intervalMs ?? 20;
  const deadline = performance.now() + options.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = value;
    } catch (err) {
      if (err instanceof StopPolling) throw err;
      last = err;
    }
    if (performance.now() >= deadline) throw new PollTimeout(options.what, options.timeoutMs, last);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
