import { defineConfig } from 'vitest/config';

// Benchmarks are not tests: they run only with `npm run bench`, one file at a time. Named, not
// globbed: bench/ also holds programs the benchmarks build (floor-entry.ts), which have no suite.
export default defineConfig({
  test: { include: ['bench/plan.ts', 'bench/watch.ts', 'bench/env.ts', 'bench/mcp.ts', 'bench/web.ts'], fileParallelism: false, testTimeout: 300_000, hookTimeout: 60_000, silent: false },
});
