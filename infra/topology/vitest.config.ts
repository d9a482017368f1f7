import { defineProject } from 'vitest/config';

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
  },
});
