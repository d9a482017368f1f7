import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

/** The suite's own unit tests (reports, options, deviations, target detection): no server needed. */
export default defineProject({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    name: 'conformance-unit',
    include: ['src/**/*.test.ts'],
    exclude: ['src/groups/**'],
  },
});
