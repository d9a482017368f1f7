import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'fhir',
    include: ['src/**/*.test.ts'],
    exclude: ['src/**/*.int.test.ts'],
  },
});
