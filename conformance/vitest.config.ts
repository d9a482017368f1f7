import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

/**
 * The conformance suite itself: needs a FHIR server (started or given by src/suite/global-setup.ts)
 * and, for the actor tests, real service processes. Run it with `pnpm conformance` (reports and exit
 * code) or `pnpm vitest run --project conformance`. Not part of the unit tests (`check` excludes it
 * there and runs it last, through the CLI).
 */
export default defineProject({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    name: 'conformance',
    include: ['src/groups/**/*.test.ts'],
    globalSetup: ['src/suite/global-setup.ts'],
    setupFiles: ['src/suite/setup.ts'],
    // One file at a time: they share one HAPI on two cores, and the resource group reads what the
    // pathway group wrote (src/suite/sequencer.ts orders the files).
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
