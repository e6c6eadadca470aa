import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**', 'dist/**'],
    // Rebuilds dist/ (tsc) when a source is newer: CLI and package-import tests run the built code.
    globalSetup: ['test/global-setup.ts'],
    // A private rig-lock directory per test file (daemon/rig-lock.ts).
    setupFiles: ['test/setup-lock-dir.ts'],
    // Native addon and worker-thread suites are safest in forks.
    pool: 'forks',
    // Daemons the tests spawn serve their web view on an ephemeral port (`--web` default), never on the
    // config's fixed one: test files run in parallel, and a port already taken stops a daemon (it never pretends).
    env: { QSCOPE_WEB: '127.0.0.1:0' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
