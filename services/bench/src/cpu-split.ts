import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPUs for a server apart from its clients: the last CPU for the server, the others for the rest (CPU
 * lists as `taskset` and `/proc/<pid>/status` write them, `7` and `0-6`). On one machine this is the
 * nearest thing to a server on its own host: the clients' CPU no longer slows the server down.
 */
export interface CpuSplit {
  server: string;
  rest: string;
}

export function splitCpus(count: number): CpuSplit {
  if (!Number.isInteger(count) || count < 2) throw new Error(`splitting CPUs needs at least 2, and there are ${count}`);
  return { server: String(count - 1), rest: count === 2 ? '0' : `0-${count - 2}` };
}

/**
 * Pins every thread of a process to `cpus` (`taskset -a`, in the kernel's own notation); threads it
 * starts later inherit that. Throws, saying why, when it cannot: no taskset, no such process (for which
 * `taskset -a` itself succeeds, having no thread to pin), or a CPU list the kernel did not take as given.
 */
export function pinProcess(pid: number, cpus: string): void {
  const why = (reason: string) => new Error(`cannot pin process ${pid} to CPU ${cpus}: ${reason}`);
  const run = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { encoding: 'utf8' });
  if (run.error) throw why(`taskset: ${run.error.message}`);
  if (run.status !== 0) throw why(run.stderr.trim() || `taskset exited ${run.status}`);
  let allowed: string;
  try {
    allowed = allowedCpus(pid);
  } catch (err) {
    throw why((err as Error).message);
  }
  if (allowed !== cpus) throw why(`it may still run on CPU ${allowed}`);
}

/** The CPUs one thread of a process (its main thread unless `tid`) may run on, as the kernel lists them (`0-1`). */
export function allowedCpus(pid: number, tid = pid): string {
  const path = `/proc/${pid}/task/${tid}/status`;
  let status: string;
  try {
    status = readFileSync(path, 'utf8');
  } catch {
    throw new Error(tid === pid ? `there is no process ${pid}` : `process ${pid} has no thread ${tid}`);
  }
  const line = /^Cpus_allowed_list:\s*(\S+)/m.exec(status);
  if (!line?.[1]) throw new Error(`${path} lists no Cpus_allowed_list`);
  return line[1];
}
