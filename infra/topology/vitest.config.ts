import { configDefaults, defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'infra-topology',
    include: [
      'validation/**/*.test.ts',
      'operations/**/*.test.ts',
      'scripts/**/*.test.ts',
      'smoke/**/*.test.ts',
      'bundle/**/*.test.ts',
    ],
    // Two HAPI FHIR start-ups: its own project (vitest.upgrade-hapi.config.ts), its own step of `check`.
    exclude: [...configDefaults.exclude, 'operations/upgrade-hapi.test.ts'],
  },
});
