// Build: generate the standalone schema validator, then bundle the CLI with esbuild.
// Bundling (one file per command chunk) starts ~30–55% faster than loading node_modules
// file by file; commands are split so `vm plan` loads only what it needs.

import { build } from 'esbuild';
import { readFileSync, renameSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
execFileSync(process.execPath, [join(root, 'scripts/gen-validator.mjs')], { stdio: 'inherit' });

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
// Bundle into a fresh directory and swap it in only when the build succeeded: a failed (or
// concurrent) build never leaves the project without a working dist/.
const out = join(root, `.dist-${process.pid}`);
rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: { vm: join(root, 'src/cli/main.ts') },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minifySyntax: true,
  minifyWhitespace: true,
  sourcemap: false,
  legalComments: 'none',
  define: { __VM_VERSION__: JSON.stringify(pkg.version) },
  // yaml's ESM build (its "browser" entry; it needs nothing from a browser) can be tree-shaken
  // and is not wrapped in CommonJS shims that all run at load; its CommonJS build is the
  // single largest cost of `vm plan` (see bench/).
  alias: { yaml: join(root, 'node_modules/yaml/browser/index.js') },
  // Some bundled CommonJS dependencies call require() for node built-ins.
  banner: { js: "import { createRequire as __vmCreateRequire } from 'node:module'; const require = __vmCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
const old = join(root, `.dist-old-${process.pid}`);
try {
  renameSync(join(root, 'dist'), old);
} catch {
  // no dist yet
}
renameSync(out, join(root, 'dist'));
rmSync(old, { recursive: true, force: true });
