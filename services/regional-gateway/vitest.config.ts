import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'regional-gateway',
    // *.int.test.ts here use real sockets on localhost only: quick enough for every run.
    include: ['src/**/*.test.ts'],
    // The first test in a file loads the FHIR definitions (~1-2 s, more on a busy 2-core machine).
    testTimeout: 30_000,
  },
});
