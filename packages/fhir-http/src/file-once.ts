import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Creates `file` with `content` (mode 0600, its directory 0700) unless it already exists. Written aside,
 * then hard-linked into place: no reader ever finds the file empty or half written, and of processes
 * starting at once (replicas sharing a data dir) exactly one creates it. Returns false when another
 * process had made it first; the caller then reads theirs.
 */
export function createFileOnce(file: string, content: string): boolean {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(temp, content, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  } finally {
    unlinkSync(temp);
  }
}
