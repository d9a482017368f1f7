import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

/**
 * docs/operations.md "Upgrading HAPI", run for real: two HAPI FHIR releases on one PostgreSQL database
 * (operations/upgrade-hapi.test.ts). Minutes, not milliseconds, so it is not part of the unit run:
 * `check` runs it as a step of its own (`pnpm hapi-upgrade`), after the conformance suite.
 */
export default defineProject({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    name: 'hapi-upgrade',
    include: ['operations/upgrade-hapi.test.ts'],
    testTimeout: 120_000,
    // Builds (Maven, when a jar is stale) and two HAPI start-ups on a loaded 2-core machine.
    hookTimeout: 1_800_000,
  },
});
