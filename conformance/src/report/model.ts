import type { RecordedDeviation } from '../deviations.ts';
import { deviationInName, isListed } from '../deviations.ts';
import type { Exchange } from '../record/exchange.ts';
import type { TargetInfo } from '../server/types.ts';

/** What became of one test. A deviation is a pass that met a recorded, named deviation. */
export type Outcome = 'passed' | 'deviation' | 'failed' | 'skipped';

export interface ReportTest {
  /** The describe blocks above the test, outermost first. */
  path: string[];
  name: string;
  outcome: Outcome;
  durationMs: number;
  /** Why: the failure's message, the skip's note, or the deviation; empty for a plain pass. */
  reason: string;
  deviation?: RecordedDeviation;
  notes: string[];
  exchanges: Exchange[];
}

export interface ReportGroup {
  /** Stable key, e.g. `2-server-capability`. */
  key: string;
  /** For people, e.g. `2. Server capability`. */
  title: string;
  tests: ReportTest[];
  /** Exchanges made outside any test (setting up test data). */
  setupExchanges: Exchange[];
  /** Errors outside any test (a failed beforeAll, a file that did not load). */
  errors: string[];
}

export interface Totals {
  total: number;
  passed: number;
  deviation: number;
  failed: number;
  skipped: number;
}

export interface ReportModel {
  title: string;
  startedAt: string;
  durationMs: number;
  /** The FHIR server under test (null in an actor-only run). */
  target: TargetInfo | null;
  /** One line on what the actor tests ran against, when they ran. */
  actorTarget?: string;
  groups: ReportGroup[];
  totals: Totals;
  /** Errors vitest could not pin on a test (and a global set-up that failed). */
  unhandledErrors: string[];
}

/** Titles of the groups, by the file (or folder) their tests live in. */
const GROUP_TITLES: Record<string, string> = {
  '1-store-contract': '1. Store contract',
  '2-server-capability': '2. Server capability',
  '3-resource-conformance': '3. Resource conformance',
  '4-pathway': '4. Pathway on HAPI',
  '5-actor': '5. Actor tests',
  '6-attack-surface': '6. Attack surface',
  '7-clinical-safety': '7. Clinical safety scenarios',
};

/** The group of a test file: `src/groups/<key>.test.ts` or `src/groups/<key>/<file>.test.ts`. */
export function groupOf(moduleId: string): { key: string; title: string } {
  const m = /groups\/([^/]+?)(?:\.test\.ts$|\/)/.exec(moduleId.replaceAll('\\', '/'));
  const key = m?.[1] ?? moduleId;
  return { key, title: GROUP_TITLES[key] ?? key };
}

/**
 * A test's outcome from its vitest state: a pass that recorded a deviation (at run time, or by the
 * store contract's naming convention) is a deviation, unless nobody listed that deviation — then it
 * fails, so a test cannot excuse itself.
 */
export function outcomeOf(
  state: 'passed' | 'failed' | 'skipped' | 'pending',
  name: string,
  recorded?: RecordedDeviation,
): { outcome: Outcome; deviation?: RecordedDeviation } {
  if (state === 'failed') return { outcome: 'failed' };
  if (state === 'skipped' || state === 'pending') return { outcome: 'skipped' };
  const deviation = recorded ?? deviationInName(name);
  if (!deviation) return { outcome: 'passed' };
  return { outcome: isListed(deviation) ? 'deviation' : 'failed', deviation };
}

export function totalsOf(groups: readonly ReportGroup[]): Totals {
  const totals: Totals = { total: 0, passed: 0, deviation: 0, failed: 0, skipped: 0 };
  for (const group of groups) {
    for (const test of group.tests) {
      totals.total++;
      totals[test.outcome]++;
    }
  }
  return totals;
}

/**
 * The run passes only when every test passed or met a recorded deviation: nothing failed, nothing was
 * skipped, no error escaped a test, and something actually ran.
 */
export function runPassed(model: Pick<ReportModel, 'groups' | 'totals' | 'unhandledErrors'>): boolean {
  const { totals } = model;
  return (
    totals.total > 0 &&
    totals.failed === 0 &&
    totals.skipped === 0 &&
    model.unhandledErrors.length === 0 &&
    model.groups.every((g) => g.errors.length === 0)
  );
}

/** Terminal colour codes out of messages bound for files. */
export function plain(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}
