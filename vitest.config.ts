import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['api/test/**/*.test.ts', 'sdk/test/**/*.test.ts'],
    // Each suite starts its own platform and database (an embedded one takes a few seconds to boot).
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
