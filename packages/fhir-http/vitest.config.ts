import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'fhir-http', include: ['src/**/*.test.ts'] },
});
