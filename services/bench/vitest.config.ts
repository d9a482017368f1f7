import { defineProject } from 'vitest/config';

// The benchmarks' own project: one test runs every suite at a tiny size (real processes), so the suites
// cannot rot; it checks that each completed and wrote its report, never a timing.
export default defineProject({
  test: {
    name: 'bench',
    include: ['src/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 30_000,
  },
});
