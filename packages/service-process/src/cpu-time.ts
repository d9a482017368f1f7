import { readFileSync } from 'node:fs';

/** Linux's USER_HZ (`getconf CLK_TCK`): 100 on every mainstream architecture. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * The CPU time a process has used so far (user + system, all its threads), in ms, from
 * `/proc/<pid>/stat`; undefined where that cannot be read (not Linux, or the process is gone).
 */
export function cpuTimeMs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name, which may hold spaces and parentheses: utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / CLOCK_TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}
