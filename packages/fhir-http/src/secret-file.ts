import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createFileOnce } from './file-once.ts';

/**
 * A secret kept in a file of the (git-ignored) data dir, made on first use (mode 0600), so page links
 * survive a restart and replicas sharing the data dir share it. Never logged.
 */
export function loadOrCreateSecret(file: string): string {
  const existing = readSecret(file);
  if (existing) return existing;
  const secret = randomBytes(32).toString('base64url');
  if (createFileOnce(file, `${secret}\n`)) return secret;
  const made = readSecret(file); // another process made it first
  if (!made) throw new Error(`Secret file ${file} is empty`);
  return made;
}

function readSecret(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
