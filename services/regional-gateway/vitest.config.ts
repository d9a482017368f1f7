import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'regional-gateway',
    include: ['src/**/*.test.ts'],
    exclude: ['src/**/*.int.test.ts'],
  },
});
