import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Runs exactly the named test files with vitest (the repository's own config and projects, the
 * conformance suite left out: it needs a FHIR server) and returns vitest's JSON report. A file that
 * fails to load, or tests that fail, are in the report; only a vitest that wrote none is an error.
 */
export async function runNamedTests(root: string, files: string[]): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'safety-case-'));
  const output = join(dir, 'results.json');
  try {
    const cli = join(dirname(createRequire(join(root, 'package.json')).resolve('vitest/package.json')), 'vitest.mjs');
    const args = [cli, 'run', '--project', '!conformance', '--reporter=json', `--outputFile=${output}`];
    // A path filter matches any file whose path contains it; each named file is given whole, from the root.
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [...args, ...files], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('error', reject);
      child.on('exit', resolve);
    });
    if (!existsSync(output)) throw new Error(`vitest wrote no results (exit code ${code})`);
    return JSON.parse(readFileSync(output, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
