import { defineConfig } from 'vitest/config';

// One `vitest run` at the root runs every workspace project. Each package keeps its own
// vitest.config.ts (name, timeouts, setup). The conformance suite (project `conformance`) needs a FHIR
// server and real processes: `check` leaves it out of the unit run and runs it last, through its CLI
// (`pnpm conformance`); the suite's own unit tests are the `conformance-unit` project. The HAPI upgrade
// test (project `hapi-upgrade`) runs two HAPI releases on PostgreSQL: `check` runs it as a step of its own.
export default defineConfig({
  test: {
    projects: [
      'packages/*',
      'services/*',
      'infra/topology',
      'infra/topology/vitest.upgrade-hapi.config.ts',
      'safety',
      'conformance',
      'conformance/vitest.unit.config.ts',
    ],
  },
});
