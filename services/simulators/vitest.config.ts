import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'simulators',
    include: ['src/**/*.test.ts'],
    exclude: ['src/**/*.int.test.ts'],
  },
});
