import { defineProject } from 'vitest/config';

// Unlike the packages, the hub's `.int.test.ts` files run here too: their real sockets are on
// 127.0.0.1 only (fake regions, the hub itself), with nothing to install or start first.
export default defineProject({
  test: {
    name: 'national-hub',
    include: ['src/**/*.test.ts'],
  },
});
