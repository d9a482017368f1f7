import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { LIKELIHOODS, riskClass, SEVERITIES } from './risk.ts';

/** A risk as assessed: severity and likelihood, and the class the log states, which must be the matrix's. */
const RiskAssessment = z
  .strictObject({
    severity: z.enum(SEVERITIES),
    likelihood: z.enum(LIKELIHOODS),
    risk: z.number().int().min(1).max(5),
  })
  .superRefine((r, ctx) => {
    const expected = riskClass(r.severity, r.likelihood);
    if (r.risk !== expected)
      ctx.addIssue({
        code: 'custom',
        path: ['risk'],
        message: `risk ${r.risk} is not the DCB0129 matrix's class for ${r.severity} × ${r.likelihood} (${expected})`,
      });
  });

/** A test by its file (from the repository root) and its name as vitest reports it: `describe > test`. */
const NamedTest = z.strictObject({
  file: z
    .string()
    .regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$))[\w./@-]+\.test\.ts$/, 'a .test.ts file, relative to the repository root'),
  name: z.string().trim().min(1),
});

const Control = z.strictObject({
  description: z.string().trim().min(1),
  tests: z.array(NamedTest).min(1, 'a control names at least one test that proves it'),
});

const Hazard = z
  .strictObject({
    id: z.string().regex(/^HAZ-\d{3}$/, 'HAZ- and three digits'),
    title: z.string().trim().min(1),
    causes: z.array(z.string().trim().min(1)).min(1),
    effect: z.string().trim().min(1),
    harm: z.string().trim().min(1),
    initial: RiskAssessment,
    controls: z.array(Control).min(1),
    residual: RiskAssessment,
    /** What is left to do, or known and accepted, in plain words. */
    notes: z.string().trim().min(1).optional(),
  })
  .superRefine((h, ctx) => {
    if (h.residual.risk > h.initial.risk)
      ctx.addIssue({
        code: 'custom',
        path: ['residual', 'risk'],
        message: `controls cannot raise a risk: residual ${h.residual.risk} is above the initial ${h.initial.risk}`,
      });
  });

const HazardLog = z
  .strictObject({
    system: z.string().trim().min(1),
    hazards: z.array(Hazard).min(1),
  })
  .superRefine((log, ctx) => {
    const seen = new Set<string>();
    for (const [i, h] of log.hazards.entries()) {
      if (seen.has(h.id)) ctx.addIssue({ code: 'custom', path: ['hazards', i, 'id'], message: `${h.id} twice` });
      seen.add(h.id);
    }
  });

export type RiskAssessment = z.infer<typeof RiskAssessment>;
export type NamedTest = z.infer<typeof NamedTest>;
export type Control = z.infer<typeof Control>;
export type Hazard = z.infer<typeof Hazard>;
export type HazardLog = z.infer<typeof HazardLog>;

/** A hazard log that does not parse or does not validate: one line per problem, each with its path. */
export class HazardLogError extends Error {
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`${source} is not a valid hazard log:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Parses and validates a hazard log's YAML text (duplicate keys are refused, as any YAML error). */
export function parseHazardLog(text: string, source = 'hazard log'): HazardLog {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length)
    throw new HazardLogError(
      source,
      doc.errors.map((e) => e.message),
    );
  const parsed = HazardLog.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new HazardLogError(
      source,
      parsed.error.issues.map((issue) => `${pathOf(issue.path)}: ${issue.message}`),
    );
  }
  return parsed.data;
}

export function loadHazardLog(path: string): HazardLog {
  return parseHazardLog(readFileSync(path, 'utf8'), path);
}

/** Every test file the log names, once each, in the order first named. */
export function namedFiles(log: HazardLog): string[] {
  return [...new Set(log.hazards.flatMap((h) => h.controls.flatMap((c) => c.tests.map((t) => t.file))))];
}

function pathOf(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('') || '(root)';
}
