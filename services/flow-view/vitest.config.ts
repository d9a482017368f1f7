import { defineProject } from 'vitest/config';

// The flow view's project: its unit tests through app.request(), and the browser test that drives the real
// demo topology in headless Chromium (processes, sockets, a browser), hence the generous timeout.
export default defineProject({
  test: {
    name: 'flow-view',
    include: ['src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 240_000,
  },
});
