import { relative, sep } from 'node:path';
import { z } from 'zod';

/** The part of vitest's JSON report (`--reporter=json`) the safety case reads. */
const VitestJson = z.object({
  testResults: z.array(
    z.object({
      name: z.string(),
      status: z.string(),
      message: z.string().optional(),
      assertionResults: z.array(
        z.object({
          ancestorTitles: z.array(z.string()),
          title: z.string(),
          status: z.string(),
          failureMessages: z.array(z.string()).optional(),
        }),
      ),
    }),
  ),
});

export type TestStatus = 'passed' | 'failed' | 'skipped';

export interface TestRun {
  /** The outcome of a test, by its file (from the repository root) and its name (`describe > test`). */
  outcome(file: string, name: string): { status: TestStatus; detail?: string } | undefined;
  /** Why a file ran no tests at all (it failed to load, say), when it did not. */
  fileError(file: string): string | undefined;
}

/** The name vitest's own reporters show: the describe blocks, then the test, joined by ` > `. */
export const testName = (ancestors: string[], title: string) => [...ancestors, title].join(' > ');

/** Reads vitest's JSON report; its file paths are absolute, or relative to `root`. */
export function readVitestJson(json: unknown, root: string): TestRun {
  const report = VitestJson.parse(json);
  const outcomes = new Map<string, { status: TestStatus; detail?: string }>();
  const fileErrors = new Map<string, string>();
  for (const file of report.testResults) {
    const path = relative(root, file.name).split(sep).join('/');
    if (file.assertionResults.length === 0 && file.message) fileErrors.set(path, file.message);
    for (const test of file.assertionResults) {
      const key = keyOf(path, testName(test.ancestorTitles, test.title));
      const status = statusOf(test.status);
      const detail = test.failureMessages?.[0]?.split('\n')[0];
      // Two tests of one name: the name proves nothing unless both pass.
      const previous = outcomes.get(key);
      if (!previous || rank(status) > rank(previous.status))
        outcomes.set(key, { status, ...(detail ? { detail } : {}) });
    }
  }
  return {
    outcome: (file, name) => outcomes.get(keyOf(file, name)),
    fileError: (file) => fileErrors.get(file),
  };
}

const keyOf = (file: string, name: string) => `${file}\u0000${name}`;
const rank = (status: TestStatus) => ({ passed: 0, skipped: 1, failed: 2 })[status];

/** vitest's JSON statuses: passed, failed, skipped, pending, todo, disabled. Only `passed` proves anything. */
function statusOf(status: string): TestStatus {
  if (status === 'passed') return 'passed';
  if (status === 'failed') return 'failed';
  return 'skipped';
}
