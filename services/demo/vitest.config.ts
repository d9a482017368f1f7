import { defineProject } from 'vitest/config';

// The demo's own project: its unit tests, and the integration test that runs the real demo (processes,
// sockets) end to end, hence the generous timeout.
export default defineProject({
  test: {
    name: 'demo',
    include: ['src/**/*.test.ts'],
    testTimeout: 150_000,
    hookTimeout: 30_000,
  },
});
