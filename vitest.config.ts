import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Each suite starts its own platform and database (an embedded one takes a few seconds to boot).
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A browser on a loaded machine takes longer than expect.poll's default second to make its first request.
    expect: { poll: { timeout: 15_000 } },
    // Two files at a time even on two cores (the default leaves one core idle): most of a suite's time is spent
    // waiting — on a database, a browser, a mail server, a timer — not computing.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['api/test/**/*.test.ts', 'sdk/test/**/*.test.ts', 'examples/templates/*/test/*.api.test.ts'],
          globalSetup: ['api/test/support/global-setup.ts'],
          // The suites share one module graph per worker: importing the server afresh for each file cost about
          // 2 s of CPU a file (112 s a run). Every suite starts its own platform and database; a cache at module level is keyed by content (json-schema.ts), never by a name that two databases could each give to something different.
          isolate: false,
        },
      },
      // Lit elements in real Chromium (browser mode, the playwright provider on the system Chromium).
      'components/vitest.config.ts',
    ],
  },
});
