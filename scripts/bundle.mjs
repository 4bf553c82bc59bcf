// What every bundle of vm's code shares: scripts/build.mjs builds dist/ with it, and bench/plan.ts
// builds its floor program with it, so the two are compiled and cached alike.

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** esbuild options for a CommonJS bundle that bin/vm.cjs's loader can run. */
export function bundleOptions(root) {
  return {
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    minifySyntax: true,
    minifyWhitespace: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    // yaml's ESM build (its "browser" entry; it needs nothing from a browser) can be tree-shaken
    // and is not wrapped in CommonJS shims that all run at load.
    alias: { yaml: join(root, 'node_modules/yaml/browser/index.js') },
  };
}

/**
 * Appends the build id (a hash of the bundle) that a code cache is tied to: bin/vm.cjs uses a
 * cache only for the build it was made for (V8 itself checks only the source's length).
 */
export function appendBuildId(bundlePath) {
  const src = readFileSync(bundlePath, 'utf8');
  writeFileSync(bundlePath, `${src}// vm-build ${createHash('sha256').update(src).digest('hex').slice(0, 16)}\n`);
}
