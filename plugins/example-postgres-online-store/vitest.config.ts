import { defineConfig } from 'vitest/config';

// Used when the package's tests run on their own (`npm test` in this directory).
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 120_000, pool: 'forks' },
});
