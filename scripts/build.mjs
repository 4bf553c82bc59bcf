// Build: generate the standalone schema validator, bundle the CLI with esbuild, then run the
// CLI's read-only commands once and keep V8's code cache for it (scripts/warm-cache.cjs).
//
// Why this shape (figures in README "Speed", measured by bench/plan.ts):
// - One CommonJS file for the CLI, dist/vm.cjs. bin/vm.cjs compiles it through node:vm with a
//   code cache: on Node 20 only a classic script can have one (module.enableCompileCache came in
//   Node 22), and it spares `vm plan` most of its parse and compile time.
// - Dependencies `vm plan` never loads (undici, tar, chokidar, cosmiconfig, diff, livekit-server-sdk, and
//   the MCP SDK with zod as dist/vendor/mcp-sdk.cjs) are separate
//   bundles in dist/vendor/, required on first use: the CLI file (and its cache) stay small.
// Bundling at all starts ~30–55% faster than loading node_modules file by file.

import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { appendBuildId, bundleOptions } from './bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
execFileSync(process.execPath, [join(root, 'scripts/gen-validator.mjs')], { stdio: 'inherit' });

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const VENDORED = ['undici', 'tar', 'chokidar', 'cosmiconfig', 'diff', 'livekit-server-sdk'];

const common = bundleOptions(root);

// Bundle into a fresh directory and swap it in only when the build succeeded: a failed (or
// concurrent) build never leaves the project without a working dist/.
const out = join(root, `.dist-${process.pid}`);
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'vendor'), { recursive: true });

await Promise.all(
  VENDORED.map((name) =>
    build({
      ...common,
      // Re-export the package as its CommonJS face: what `await import(name)` gives our code.
      stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: root, loader: 'js' },
      outfile: join(out, 'vendor', `${name}.cjs`),
    }),
  ),
);

// The MCP SDK and zod, for `vm mcp` only: src/mcp/sdk.ts re-exports what vm uses of them.
const MCP_SDK = join(root, 'src/mcp/sdk.ts');
await build({ ...common, entryPoints: [MCP_SDK], outfile: join(out, 'vendor', 'mcp-sdk.cjs') });

await build({
  ...common,
  entryPoints: [join(root, 'src/cli/main.ts')],
  outfile: join(out, 'vm.cjs'),
  define: { __VM_VERSION__: JSON.stringify(pkg.version), 'import.meta.url': '__vmModuleUrl' },
  // src/ is ESM (tests run it as is); in this CommonJS file, import.meta.url is the bundle's URL.
  banner: { js: "const __vmModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [
    {
      // `await import('undici')` → require('./vendor/undici.cjs') on first use. A real import()
      // would not work: the bundle runs as a classic script compiled by node:vm, which has no
      // dynamic-import callback. The same for lazily imported node built-ins.
      name: 'lazy-require',
      setup(b) {
        const vendored = new RegExp(`^(${VENDORED.join('|')})$`);
        b.onResolve({ filter: /.*/ }, (a) => {
          if (vendored.test(a.path)) return { path: `./vendor/${a.path}.cjs`, namespace: 'lazy-require' };
          if (a.path.endsWith('/sdk.js') && join(a.resolveDir, a.path.replace(/\.js$/, '.ts')) === MCP_SDK) return { path: './vendor/mcp-sdk.cjs', namespace: 'lazy-require' };
          if (a.kind === 'dynamic-import' && a.path.startsWith('node:')) return { path: a.path, namespace: 'lazy-require' };
          return undefined;
        });
        b.onLoad({ filter: /.*/, namespace: 'lazy-require' }, (a) => ({ contents: `module.exports = require(${JSON.stringify(a.path)});`, loader: 'js' }));
        // commander requires child_process at load, for executable subcommands vm does not
        // have; a converged `vm plan` starts no process, so load it only if it is ever used.
        b.onResolve({ filter: /^(node:)?child_process$/ }, (a) => (/[\\/]node_modules[\\/]commander[\\/]/.test(a.importer) ? { path: 'child_process', namespace: 'lazy-builtin' } : undefined));
        b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (a) => ({
          contents: `let m; module.exports = new Proxy({}, { get: (_, k) => (m ??= require('node:${a.path}'))[k] });`,
          loader: 'js',
        }));
        b.onResolve({ filter: /.*/, namespace: 'lazy-require' }, (a) => ({ path: a.path, external: true }));
      },
    },
  ],
});

// `vm web`'s page: its script bundled with livekit-client for the browser (no CDN, so the page
// works offline), beside its HTML and CSS. Loaded only by `vm web`.
mkdirSync(join(out, 'web'), { recursive: true });
await build({
  entryPoints: [join(root, 'src/web/page/app.ts')],
  outfile: join(out, 'web', 'app.js'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome109', 'firefox115', 'safari16'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
for (const f of ['index.html', 'app.css']) copyFileSync(join(root, 'src/web/page', f), join(out, 'web', f));

appendBuildId(join(out, 'vm.cjs'));

// Warm up the new bundle and write its code cache (in a child: it must run with the same node and
// V8 flags as `vm` itself, and must not see this process's state).
execFileSync(process.execPath, [join(root, 'scripts/warm-cache.cjs'), out], { stdio: 'inherit' });

const old = join(root, `.dist-old-${process.pid}`);
try {
  renameSync(join(root, 'dist'), old);
} catch {
  // no dist yet
}
renameSync(out, join(root, 'dist'));
rmSync(old, { recursive: true, force: true });
