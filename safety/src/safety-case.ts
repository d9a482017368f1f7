import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SafetyCase } from './evaluate.ts';
import { evaluate } from './evaluate.ts';
import { loadHazardLog, namedFiles } from './hazard-log.ts';
import { nhsukStylesheet, renderHtml } from './report-html.ts';
import { runNamedTests } from './run-tests.ts';
import { readVitestJson } from './vitest-results.ts';

export interface SafetyCaseOptions {
  /** The repository root: test files are named from it. */
  root: string;
  /** The hazard log (YAML). */
  log: string;
  /** Where the report goes: `safety-case.json` and `index.html`. */
  out: string;
  /** A vitest JSON report to read instead of running the named tests. */
  results?: string;
  /** Runs the named test files and returns vitest's JSON report (default: vitest itself). */
  runTests?: (root: string, files: string[]) => Promise<unknown>;
  now?: Date;
}

export interface SafetyCaseRun {
  safetyCase: SafetyCase;
  /** 0 when every hazard is green, else 1. */
  exitCode: number;
  files: { json: string; html: string };
}

/**
 * The command's core: loads the hazard log, runs the tests its controls name (or reads a results
 * file), judges each hazard, and writes the report. Red anywhere is a non-zero exit code.
 */
export async function buildSafetyCase(options: SafetyCaseOptions): Promise<SafetyCaseRun> {
  const log = loadHazardLog(options.log);
  const fileExists = (file: string) => existsSync(join(options.root, file));
  const files = namedFiles(log).filter(fileExists);
  let json: unknown;
  if (options.results) json = JSON.parse(readFileSync(options.results, 'utf8'));
  else if (files.length) json = await (options.runTests ?? runNamedTests)(options.root, files);
  else json = { testResults: [] };
  const safetyCase = evaluate(log, readVitestJson(json, options.root), fileExists, options.now);

  mkdirSync(options.out, { recursive: true });
  const written = { json: join(options.out, 'safety-case.json'), html: join(options.out, 'index.html') };
  writeFileSync(written.json, `${JSON.stringify(safetyCase, null, 2)}\n`);
  writeFileSync(written.html, renderHtml(safetyCase, nhsukStylesheet()));
  return { safetyCase, exitCode: safetyCase.verdict === 'green' ? 0 : 1, files: written };
}
