#!/usr/bin/env node
// Entry point: loads the bundled CLI (dist/vm.cjs, built by `npm run build`, which `npm ci` runs
// via `prepare`) with the V8 code cache the build made for it, then runs it.
//
// Why a classic script and not `import()`: Node 20 can give a code cache only to a script
// compiled through node:vm (module.enableCompileCache came in Node 22). With the cache, V8 skips
// parsing and compiling the CLI: `vm plan` starts ~20 ms sooner (bench/plan.ts). Without one, or
// when V8 rejects it (another node version, other V8 flags), the script compiles as usual.
'use strict';

const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const DIST = join(__dirname, '..', 'dist');
// The cache starts with a header naming the build it was made for: the build id that
// scripts/build.mjs appends to the bundle (a hash of its content), and the bundle's length. V8
// itself checks only the source's length, and a cache from another build would run old code.
const HEADER_BYTES = 64;

/** The bundle's identity as the cache header records it; undefined for a bundle with no id. */
function bundleStamp(source) {
  const m = /\/\/ vm-build ([0-9a-f]{16})\n$/.exec(source.slice(-40));
  return m === null ? undefined : `vm-v8cache ${m[1]} ${source.length}`;
}

function readCache(path, stamp) {
  if (stamp === undefined) return undefined;
  let buf;
  try {
    buf = readFileSync(path);
  } catch {
    return undefined;
  }
  if (buf.length <= HEADER_BYTES || buf.toString('latin1', 0, HEADER_BYTES).trimEnd() !== stamp) return undefined;
  return buf.subarray(HEADER_BYTES);
}

/**
 * Compiles and runs the bundle in `dist`; returns its exports, whether a cache was used, and
 * `saveCache()`, which writes V8's code cache for everything compiled so far (the build calls it
 * after a warm-up: scripts/warm-cache.cjs). `useCache: false` compiles from source.
 * `scriptName`: the file stack traces name (default: the bundle read). V8 keeps the name a
 * script was compiled under in its code cache, so the build warms a bundle in a temporary
 * directory under the name it will have once that directory becomes dist/.
 */
function loadCli({ dist = DIST, useCache = true, scriptName } = {}) {
  const bundle = join(dist, 'vm.cjs');
  const cachePath = `${bundle}.v8cache`;
  let source;
  try {
    source = readFileSync(bundle, 'utf8');
  } catch (e) {
    if (e && e.code === 'ENOENT') {
      process.stderr.write('vm: not built yet: run `npm run build` (npm ci does it for you)\n');
      process.exit(1);
    }
    throw e;
  }
  const stamp = bundleStamp(source);
  const { Script } = require('node:vm');
  const cachedData = useCache ? readCache(cachePath, stamp) : undefined;
  // The same wrapper node's CommonJS loader uses, so the bundle sees the usual module scope.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: scriptName ?? bundle,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  const mod = { exports: {} };
  // The bundle's own require: its `require('./vendor/undici.cjs')` resolves beside it.
  const bundleRequire = require('node:module').createRequire(bundle);
  script.runInThisContext()(mod.exports, bundleRequire, mod, bundle, dist);
  const saveCache = () => {
    if (stamp === undefined) throw new Error(`${bundle} has no build id: a cache for it could not be told from another build's`);
    const header = Buffer.alloc(HEADER_BYTES, ' ');
    header.write(stamp, 'latin1');
    const tmp = `${cachePath}.tmp-${process.pid}`;
    writeFileSync(tmp, Buffer.concat([header, script.createCachedData()]));
    renameSync(tmp, cachePath);
  };
  return { cli: mod.exports, cache: cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'used', saveCache };
}

async function run() {
  const { cli } = loadCli({ useCache: process.env.VM_NO_CODE_CACHE === undefined });
  // `vm logs | head`: the reader went away; that is a normal end, not an error.
  process.stdout.on('error', (e) => {
    if (e && e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  // isatty(0), not process.stdin.isTTY: that getter builds a stream for stdin (fs streams for
  // /dev/null, net for a pipe), ~2–3 ms that only a prompt needs.
  const isTTY = Boolean(require('node:tty').isatty(0) && process.stdout.isTTY);
  process.exitCode = await cli.main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    isTTY,
    color: cli.colorWanted(Boolean(process.stdout.isTTY), process.env),
    ...(process.stdout.columns > 0 ? { columns: process.stdout.columns } : {}),
    env: process.env,
    cwd: process.cwd(),
    script: __filename,
    prompt: isTTY
      ? (q) =>
          new Promise((resolve) => {
            // The callback API, not readline/promises: its question() rejects with an AbortError
            // ("Aborted with Ctrl+C") on Ctrl-C and Ctrl-D, which is an answer, not a bug.
            const { createInterface } = require('node:readline');
            const rl = createInterface({ input: process.stdin, output: process.stdout });
            let answer;
            rl.once('SIGINT', () => {
              answer = { interrupted: true };
              process.stdout.write('^C\n');
              rl.close();
            });
            rl.once('close', () => {
              if (answer === undefined) process.stdout.write('\n'); // Ctrl-D: end the prompt's line
              resolve(answer);
            });
            rl.question(q, (line) => {
              answer = line;
              rl.close();
            });
          })
      : undefined,
  });
}

module.exports = { loadCli };
if (require.main === module) {
  run().catch((e) => {
    // main() reports every user error itself; anything here is a bug in vm.
    process.stderr.write(`vm: internal error: ${e && e.stack ? e.stack : String(e)}\n`);
    process.exitCode = 1;
  });
}
