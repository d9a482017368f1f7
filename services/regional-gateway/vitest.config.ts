import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'regional-gateway',
    // *.int.test.ts here use real sockets on localhost only: quick enough for every run.
    include: ['src/**/*.test.ts'],
  },
});
