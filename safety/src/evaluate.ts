import type { Control, Hazard, HazardLog, NamedTest } from './hazard-log.ts';
import { HIGHEST_ACCEPTABLE_RESIDUAL } from './risk.ts';
import type { TestRun } from './vitest-results.ts';

/** What became of one named test: it ran and passed, failed or was skipped, or it is not there at all. */
export type Evidence = 'passed' | 'failed' | 'skipped' | 'missing-file' | 'missing-test';

export interface TestEvidence extends NamedTest {
  evidence: Evidence;
  detail?: string;
}

export interface ControlResult extends Omit<Control, 'tests'> {
  tests: TestEvidence[];
  proven: boolean;
}

export type Verdict = 'green' | 'red';

export interface HazardResult extends Omit<Hazard, 'controls'> {
  controls: ControlResult[];
  verdict: Verdict;
  /** Why it is red, one line each; empty when green. */
  reasons: string[];
}

export interface SafetyCase {
  system: string;
  generatedAt: string;
  verdict: Verdict;
  hazards: HazardResult[];
  totals: { hazards: number; green: number; red: number; tests: number; testsPassed: number };
}

/**
 * Judges the hazard log against a test run: a hazard is green when every test each of its controls
 * names ran and passed, and its residual risk is acceptable; otherwise it is red, and so is the case.
 */
export function evaluate(
  log: HazardLog,
  run: TestRun,
  fileExists: (file: string) => boolean,
  now: Date = new Date(),
): SafetyCase {
  const hazards = log.hazards.map((hazard): HazardResult => {
    const controls = hazard.controls.map((control): ControlResult => {
      const tests = control.tests.map((test) => evidenceFor(test, run, fileExists));
      return { ...control, tests, proven: tests.every((t) => t.evidence === 'passed') };
    });
    const reasons = controls.flatMap((c) =>
      c.tests.filter((t) => t.evidence !== 'passed').map((t) => `${t.file}: “${t.name}” ${evidenceText(t)}`),
    );
    if (hazard.residual.risk > HIGHEST_ACCEPTABLE_RESIDUAL)
      reasons.push(`residual risk ${hazard.residual.risk} is above ${HIGHEST_ACCEPTABLE_RESIDUAL}: not acceptable`);
    return { ...hazard, controls, verdict: reasons.length ? 'red' : 'green', reasons };
  });
  const tests = hazards.flatMap((h) => h.controls.flatMap((c) => c.tests));
  const red = hazards.filter((h) => h.verdict === 'red').length;
  return {
    system: log.system,
    generatedAt: now.toISOString(),
    verdict: red ? 'red' : 'green',
    hazards,
    totals: {
      hazards: hazards.length,
      green: hazards.length - red,
      red,
      tests: tests.length,
      testsPassed: tests.filter((t) => t.evidence === 'passed').length,
    },
  };
}

function evidenceFor(test: NamedTest, run: TestRun, fileExists: (file: string) => boolean): TestEvidence {
  if (!fileExists(test.file)) return { ...test, evidence: 'missing-file' };
  const outcome = run.outcome(test.file, test.name);
  if (!outcome) {
    const error = run.fileError(test.file);
    return { ...test, evidence: 'missing-test', ...(error ? { detail: error } : {}) };
  }
  return { ...test, evidence: outcome.status, ...(outcome.detail ? { detail: outcome.detail } : {}) };
}

const SAYS: Record<Evidence, string> = {
  passed: 'passed',
  failed: 'failed',
  skipped: 'did not run (skipped or todo)',
  'missing-file': 'cannot run: the file does not exist',
  'missing-test': 'was not found in the results',
};

/** The evidence in words, with the first line of the failure or load error when there is one. */
export function evidenceText(test: TestEvidence): string {
  return test.detail ? `${SAYS[test.evidence]}: ${test.detail}` : SAYS[test.evidence];
}
