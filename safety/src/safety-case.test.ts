import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { SafetyCase } from './evaluate.ts';
import type { HazardLog } from './hazard-log.ts';
import { loadHazardLog } from './hazard-log.ts';
import { buildSafetyCase } from './safety-case.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LOG = join(ROOT, 'safety/hazard-log.yaml');
const CLI = join(ROOT, 'safety/src/cli.ts');
const log = loadHazardLog(LOG);
const temp = mkdtempSync(join(tmpdir(), 'safety-case-test-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

type Status = 'passed' | 'failed' | 'skipped';

/**
 * A vitest JSON report in which every test the log names ran, with `status` (passed unless told), as
 * vitest writes one: absolute file paths, describe blocks apart from the title.
 */
function resultsFor(hazardLog: HazardLog, status: (file: string, name: string) => Status = () => 'passed') {
  const byFile = new Map<
    string,
    { ancestorTitles: string[]; title: string; status: Status; failureMessages: string[] }[]
  >();
  for (const test of hazardLog.hazards.flatMap((h) => h.controls.flatMap((c) => c.tests))) {
    const parts = test.name.split(' > ');
    const s = status(test.file, test.name);
    const list = byFile.get(test.file) ?? [];
    list.push({
      ancestorTitles: parts.slice(0, -1),
      title: parts.at(-1) as string,
      status: s,
      failureMessages: s === 'failed' ? ['AssertionError: expected 412, got 200\n    at stack'] : [],
    });
    byFile.set(test.file, list);
  }
  return {
    testResults: [...byFile].map(([file, assertionResults]) => ({
      name: join(ROOT, file),
      status: assertionResults.some((a) => a.status === 'failed') ? 'failed' : 'passed',
      message: '',
      assertionResults,
    })),
  };
}

let files = 0;
function write(name: string, content: string): string {
  const path = join(temp, `${++files}-${name}`);
  writeFileSync(path, content);
  return path;
}

const verdicts = (safetyCase: SafetyCase) => Object.fromEntries(safetyCase.hazards.map((h) => [h.id, h.verdict]));
const first = log.hazards[0]?.controls[0]?.tests[0] as { file: string; name: string };
const someOther = log.hazards.at(-1)?.controls.at(-1)?.tests.at(-1) as { file: string; name: string };

describe('the safety case gate', () => {
  it('is green, and exits 0, when every test the log names passed', async () => {
    const run = await buildSafetyCase({
      root: ROOT,
      log: LOG,
      results: write('results.json', JSON.stringify(resultsFor(log))),
      out: join(temp, 'green'),
    });
    expect(run.exitCode).toBe(0);
    expect(run.safetyCase.verdict).toBe('green');
    expect(Object.values(verdicts(run.safetyCase)).every((v) => v === 'green')).toBe(true);
    const written = JSON.parse(readFileSync(run.files.json, 'utf8')) as SafetyCase;
    expect(written.totals).toEqual({
      hazards: 10,
      green: 10,
      red: 0,
      tests: run.safetyCase.totals.tests,
      testsPassed: run.safetyCase.totals.tests,
    });
    expect(readFileSync(run.files.html, 'utf8')).toContain('Every control is proven by its tests');
  });

  it('turns the hazard red, and exits 1, when the log names a test that does not exist', async () => {
    // A named test renamed away: the log (a copy) still names it, the results no longer have it.
    const renamed = `${first.name} (renamed)`;
    const copy = write('hazard-log.yaml', readFileSync(LOG, 'utf8').replace(`"${first.name}"`, `"${renamed}"`));
    const run = await buildSafetyCase({
      root: ROOT,
      log: copy,
      results: write('results.json', JSON.stringify(resultsFor(log))),
      out: join(temp, 'renamed'),
    });
    expect(run.exitCode).toBe(1);
    const hazard = run.safetyCase.hazards[0];
    expect(hazard?.verdict).toBe('red');
    expect(hazard?.reasons).toEqual([`${first.file}: “${renamed}” was not found in the results`]);
    expect(run.safetyCase.hazards.slice(1).filter((h) => h.verdict === 'red')).toEqual([]);
  });

  it('turns the hazard red, and exits 1, when a named test failed, and says why', async () => {
    const results = resultsFor(log, (file, name) =>
      file === someOther.file && name === someOther.name ? 'failed' : 'passed',
    );
    const run = await buildSafetyCase({
      root: ROOT,
      log: LOG,
      results: write('results.json', JSON.stringify(results)),
      out: join(temp, 'failed'),
    });
    expect(run.exitCode).toBe(1);
    const red = run.safetyCase.hazards.filter((h) => h.verdict === 'red');
    // The test may prove controls of several hazards: each of them is red, and no other.
    const naming = log.hazards.filter((h) =>
      h.controls.some((c) => c.tests.some((t) => t.file === someOther.file && t.name === someOther.name)),
    );
    expect(red.map((h) => h.id)).toEqual(naming.map((h) => h.id));
    expect(red.at(-1)?.reasons).toContain(
      `${someOther.file}: “${someOther.name}” failed: AssertionError: expected 412, got 200`,
    );
  });

  it('turns a hazard red for a skipped test, and for a named file that does not exist', async () => {
    const copy = write(
      'hazard-log.yaml',
      readFileSync(LOG, 'utf8').replace(`file: ${first.file}`, 'file: safety/src/gone.test.ts'),
    );
    const results = resultsFor(log, (file, name) =>
      file === someOther.file && name === someOther.name ? 'skipped' : 'passed',
    );
    const run = await buildSafetyCase({
      root: ROOT,
      log: copy,
      results: write('results.json', JSON.stringify(results)),
      out: join(temp, 'gone'),
    });
    expect(run.exitCode).toBe(1);
    const reasons = run.safetyCase.hazards.flatMap((h) => h.reasons);
    expect(reasons).toContain(`safety/src/gone.test.ts: “${first.name}” cannot run: the file does not exist`);
    expect(reasons).toContain(`${someOther.file}: “${someOther.name}” did not run (skipped or todo)`);
  });

  it('turns a hazard red whose residual risk is not acceptable, even with every test passed', async () => {
    const copy = write(
      'hazard-log.yaml',
      readFileSync(LOG, 'utf8').replace(
        'residual: { severity: major, likelihood: low, risk: 3 }',
        'residual: { severity: major, likelihood: high, risk: 4 }',
      ),
    );
    const run = await buildSafetyCase({
      root: ROOT,
      log: copy,
      results: write('results.json', JSON.stringify(resultsFor(log))),
      out: join(temp, 'residual'),
    });
    expect(run.exitCode).toBe(1);
    expect(run.safetyCase.hazards.filter((h) => h.verdict === 'red').map((h) => [h.id, h.reasons])).toEqual([
      ['HAZ-002', ['residual risk 4 is above 3: not acceptable']],
    ]);
  });

  it('runs exactly the named files that exist, each once', async () => {
    const copy = write(
      'hazard-log.yaml',
      readFileSync(LOG, 'utf8').replace(`file: ${first.file}`, 'file: safety/src/gone.test.ts'),
    );
    let ran: string[] = [];
    await buildSafetyCase({
      root: ROOT,
      log: copy,
      out: join(temp, 'ran'),
      runTests: async (_root, named) => {
        ran = named;
        return resultsFor(log);
      },
    });
    const expected = [...new Set(log.hazards.flatMap((h) => h.controls.flatMap((c) => c.tests.map((t) => t.file))))];
    expect(ran).not.toContain('safety/src/gone.test.ts');
    expect([...ran].sort()).toEqual(expected.sort());
  });
});

describe('pnpm safety-case', () => {
  const run = async (...args: string[]) => {
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [CLI, ...args], { cwd: ROOT });
      return { code: 0, stdout };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it('exits 1 and prints the red hazard with its reason when a named test failed; 0 when all passed', async () => {
    const failed = resultsFor(log, (file, name) => (file === first.file && name === first.name ? 'failed' : 'passed'));
    const red = await run('--results', write('results.json', JSON.stringify(failed)), '--out', join(temp, 'cli-red'));
    expect(red.code).toBe(1);
    expect(red.stdout).toMatch(/^RED {3}HAZ-001 residual risk 2 {2}A result never reaches the referrer$/m);
    expect(red.stdout).toContain(`“${first.name}” failed`);
    expect(red.stdout).toMatch(/^safety case RED: /m);

    const green = await run(
      '--results',
      write('results.json', JSON.stringify(resultsFor(log))),
      '--out',
      join(temp, 'cli-green'),
    );
    expect(green.code).toBe(0);
    expect(green.stdout).toMatch(/^safety case GREEN: 10 of 10 hazards green/m);
  });

  it('exits 2, naming each problem, for an invalid log or option', async () => {
    const bad = write(
      'hazard-log.yaml',
      readFileSync(LOG, 'utf8').replace(
        'initial: { severity: major, likelihood: medium, risk: 3 }',
        'initial: { severity: major, likelihood: medium, risk: 5 }',
      ),
    );
    const invalid = await run('--log', bad, '--out', join(temp, 'cli-invalid'));
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain(
      "hazards[0].initial.risk: risk 5 is not the DCB0129 matrix's class for major × medium (3)",
    );
    expect((await run('--nonsense')).code).toBe(2);
  });
});
