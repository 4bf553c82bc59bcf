import { defineConfig } from 'vitest/config';

// Benchmarks are not tests: they run only with `npm run bench`, one file at a time.
export default defineConfig({
  test: { include: ['bench/**/*.ts'], exclude: ['bench/vitest.config.ts'], fileParallelism: false, testTimeout: 300_000, hookTimeout: 60_000, silent: false },
});
