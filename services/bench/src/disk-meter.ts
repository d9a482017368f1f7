import { readFileSync } from 'node:fs';

/**
 * How much a run waited on the disk, machine-wide (Linux): the time during which every runnable task was
 * stalled on I/O (pressure stall information, `/proc/pressure/io`, "full"), and the KiB the kernel read
 * in from disk (`pgpgin` in `/proc/vmstat`). When the stores outgrow what the page cache keeps, pages
 * are read back and the rate falls with the CPUs idle; these say so beside the CPU figures.
 */
export interface DiskReading {
  /** Microseconds since boot during which all non-idle tasks waited on I/O. */
  stalledUs: number;
  /** KiB read in from disk since boot. */
  readKib: number;
}

export interface DiskWaits {
  /** Share of the run's wall time during which all non-idle tasks waited on I/O. */
  ioStalled: number;
  /** KiB read from disk per order. */
  readKibPerOrder: number;
}

/** The `total=` of the "full" line of a pressure file; undefined when the text has none. */
export function fullStallTotal(pressure: string): number | undefined {
  const total = /^full\b.*\btotal=(\d+)/m.exec(pressure)?.[1];
  return total === undefined ? undefined : Number(total);
}

/** One counter of `/proc/vmstat` ("name value" lines); undefined when the text has none. */
export function vmstatCounter(vmstat: string, name: string): number | undefined {
  const value = new RegExp(`^${name} (\\d+)$`, 'm').exec(vmstat)?.[1];
  return value === undefined ? undefined : Number(value);
}

/** This machine's reading, or undefined where either file is missing (not Linux, or a kernel without PSI). */
export function diskReading(): DiskReading | undefined {
  try {
    const stalledUs = fullStallTotal(readFileSync('/proc/pressure/io', 'utf8'));
    const readKib = vmstatCounter(readFileSync('/proc/vmstat', 'utf8'), 'pgpgin');
    return stalledUs === undefined || readKib === undefined ? undefined : { stalledUs, readKib };
  } catch {
    return undefined;
  }
}

/** The waits between two readings taken `seconds` apart, over `orders` orders. */
export function diskWaitsBetween(
  a: DiskReading | undefined,
  b: DiskReading | undefined,
  seconds: number,
  orders: number,
): DiskWaits | undefined {
  if (!a || !b || seconds <= 0 || orders <= 0) return undefined;
  return {
    ioStalled: (b.stalledUs - a.stalledUs) / (seconds * 1e6),
    readKibPerOrder: (b.readKib - a.readKib) / orders,
  };
}
