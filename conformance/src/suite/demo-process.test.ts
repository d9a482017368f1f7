import { describe, expect, it } from 'vitest';
import { readTranscript } from './demo-process.ts';

// The shape of `pnpm demo` output (services/demo/src/timeline.ts and main.ts), abridged.
const TRANSCRIPT = `imaging-connect demo: a CT ordered in the north, performed and reported in the midlands, found from the south
  patient NHS number 9994502271 (test range), orders N81001-427396-1…

── step 1/3: Start the national hub and three regional gateways, each its own process ─────────
  +7.409s  step 1/3 PASSED in 7353 ms

── step 2/3: GP practice N81001 (north) registers the patient ─────────────────
 +12.076s  step 2/3 PASSED in 4667 ms

── step 3/3: The GP orders a CT chest from RM1 ───
 +16.817s  step 3/3 FAILED in 4741 ms: midlands: expected one copy

The scenario took 16.8 s.
demo: 2/3 steps passed
`;

describe('reading the demo transcript', () => {
  it('finds the verdict, each step with its title, and the run ids', () => {
    const read = readTranscript(TRANSCRIPT);
    expect(read.summary).toBe('demo: 2/3 steps passed');
    expect(read).toMatchObject({ passed: 2, total: 3, ids: { nhsNumber: '9994502271', placer: 'N81001-427396-1' } });
    expect(read.stepLines).toEqual([
      'step 1/3 PASSED Start the national hub and three regional gateways, each its own process (7353 ms)',
      'step 2/3 PASSED GP practice N81001 (north) registers the patient (4667 ms)',
      'step 3/3 FAILED The GP orders a CT chest from RM1 (4741 ms: midlands: expected one copy)',
    ]);
  });

  it('a transcript cut short has no verdict', () => {
    expect(readTranscript('── step 1/3: Start ───\n').summary).toBeUndefined();
  });
});
