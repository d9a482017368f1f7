import { defineConfig } from 'vitest/config';

// One `vitest run` at the root runs every workspace project. Each package keeps its own
// vitest.config.ts (name, timeouts, setup); the conformance suite has its own, longer timeouts.
export default defineConfig({
  test: {
    projects: ['packages/*', 'services/*', 'conformance'],
  },
});
