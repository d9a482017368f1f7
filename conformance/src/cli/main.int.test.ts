import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const cli = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 60_000 });

// The real command: argument errors end it before anything is started.
describe('pnpm conformance (the process)', () => {
  it('a bad argument exits 2 with the problem and the usage on stderr', () => {
    const result = cli('--actor', 'pacs');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--actor must be one of imaging-provider, referrer, not 'pacs'");
    expect(result.stderr).toContain('Usage: pnpm conformance');
    expect(result.stdout).toBe('');
  });

  it('--help prints the usage and exits 0', () => {
    const result = cli('--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('--target <base-url>');
  });
});
