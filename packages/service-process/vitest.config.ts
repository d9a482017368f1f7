import { defineProject } from 'vitest/config';

// Each test starts real Node processes: on a busy machine one start can take seconds.
export default defineProject({
  test: { name: 'service-process', include: ['src/**/*.test.ts'], testTimeout: 60_000 },
});
