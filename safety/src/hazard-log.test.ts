import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HazardLogError, loadHazardLog, namedFiles, parseHazardLog } from './hazard-log.ts';

const LOG = fileURLToPath(new URL('../hazard-log.yaml', import.meta.url));

/** A one-hazard log; `change` edits its YAML text. */
function log(change: (yaml: string) => string = (y) => y): string {
  return change(`system: test
hazards:
  - id: HAZ-001
    title: A result never reaches the referrer
    causes: [The other region is down]
    effect: The report is not read
    harm: Delayed treatment
    initial: { severity: major, likelihood: medium, risk: 3 }
    controls:
      - description: Delivery is retried
        tests:
          - file: services/x/src/a.test.ts
            name: "delivery > retries"
    residual: { severity: major, likelihood: very low, risk: 2 }
`);
}

function problemsOf(text: string): string[] {
  try {
    parseHazardLog(text, 'test.yaml');
  } catch (err) {
    if (err instanceof HazardLogError) return err.problems;
    throw err;
  }
  throw new Error('the log was accepted');
}

describe('the hazard log', () => {
  it('is valid, and covers the hazards the safety case starts from', () => {
    const hazards = loadHazardLog(LOG).hazards;
    expect(hazards.map((h) => h.id)).toEqual([
      'HAZ-001',
      'HAZ-002',
      'HAZ-003',
      'HAZ-004',
      'HAZ-005',
      'HAZ-006',
      'HAZ-007',
      'HAZ-008',
      'HAZ-009',
      'HAZ-010',
    ]);
    expect(hazards.every((h) => h.controls.every((c) => c.tests.length > 0))).toBe(true);
  });

  it('names each test file once in the list it runs', () => {
    expect(
      namedFiles(
        parseHazardLog(
          log((y) =>
            y.replace(
              '    residual:',
              `      - description: Again
        tests:
          - file: services/x/src/a.test.ts
            name: "delivery > retries again"
    residual:`,
            ),
          ),
        ),
      ),
    ).toEqual(['services/x/src/a.test.ts']);
  });
});

describe('the schema refuses, naming where', () => {
  it('a risk class the matrix does not give for its severity and likelihood', () => {
    expect(problemsOf(log((y) => y.replace('likelihood: medium, risk: 3', 'likelihood: medium, risk: 4')))).toEqual([
      "hazards[0].initial.risk: risk 4 is not the DCB0129 matrix's class for major × medium (3)",
    ]);
  });

  it('a severity or likelihood outside the scale', () => {
    const problems = problemsOf(
      log((y) => y.replace('severity: major, likelihood: very low', 'severity: fatal, likelihood: rare')),
    );
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'hazards[0].residual.severity',
      'hazards[0].residual.likelihood',
    ]);
  });

  it('a residual risk above the initial one', () => {
    expect(problemsOf(log((y) => y.replace('likelihood: very low, risk: 2', 'likelihood: high, risk: 4')))).toEqual([
      'hazards[0].residual.risk: controls cannot raise a risk: residual 4 is above the initial 3',
    ]);
  });

  it('a control that names no test, and a test that is not a .test.ts file inside the repository', () => {
    expect(problemsOf(log((y) => y.replace(/tests:[\s\S]*?retries"/, 'tests: []')))[0]).toMatch(
      /^hazards\[0\]\.controls\[0\]\.tests: a control names at least one test/,
    );
    for (const file of ['../elsewhere/a.test.ts', '/abs/a.test.ts', 'services/x/src/a.ts'])
      expect(problemsOf(log((y) => y.replace('services/x/src/a.test.ts', file)))[0]).toMatch(
        /^hazards\[0\]\.controls\[0\]\.tests\[0\]\.file: a \.test\.ts file/,
      );
  });

  it('a hazard id used twice, an unknown field, and a duplicate key', () => {
    const twice = log((y) => `${y}${y.slice(y.indexOf('  - id:'))}`);
    expect(problemsOf(twice)).toEqual(['hazards[1].id: HAZ-001 twice']);
    expect(problemsOf(log((y) => y.replace('    effect:', '    efect: typo\n    effect:')))[0]).toMatch(
      /^hazards\[0\]: Unrecognized key: "efect"/,
    );
    expect(problemsOf(log((y) => y.replace('    harm:', '    title: Again\n    harm:')))[0]).toMatch(/unique/i);
  });
});
