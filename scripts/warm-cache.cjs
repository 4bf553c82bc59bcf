// Warms up a freshly built bundle and writes its V8 code cache (called by scripts/build.mjs
// with the new dist directory). Runs the read-only commands a user runs most, against the
// examples and a throwaway HOME, so the cache holds what they compile: commander, yaml, the
// schema validator, observe, the planner and the plan renderer. Functions it does not reach are
// compiled on first use as before. Nothing here may touch the real HOME or user manager: the
// environment is replaced whole, and XDG_RUNTIME_DIR points at an empty directory.
'use strict';

const { mkdtempSync, rmSync, writeFileSync, mkdirSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const dist = process.argv[2];
if (dist === undefined) throw new Error('usage: warm-cache.cjs DIST_DIR');
const root = join(__dirname, '..');
const home = mkdtempSync(join(tmpdir(), 'vm-warm-'));

async function main() {
  mkdirSync(join(home, 'run'), { mode: 0o700 });
  // examples/full.yaml takes one secret from the environment and one from a file: give it both
  // (made-up values, in the throwaway HOME), so the commands run their success paths.
  mkdirSync(join(home, '.config', 'voicemode'), { recursive: true, mode: 0o700 });
  writeFileSync(join(home, '.config', 'voicemode', 'livekit.secret'), `${'w'.repeat(40)}\n`, { mode: 0o600 });
  const env = { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_RUNTIME_DIR: join(home, 'run'), LIVEKIT_API_SECRET: 'x'.repeat(40) };
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, env);

  const { loadCli } = require('../bin/vm.cjs');
  // Named as it will be: scripts/build.mjs renames this directory to dist/ next.
  const loaded = loadCli({ dist, useCache: false, scriptName: join(root, 'dist', 'vm.cjs') });
  let said = '';
  const sink = { write: (s) => (said += s, true) };
  const io = { stdout: sink, stderr: sink, isTTY: false, env, cwd: home };
  const examples = ['minimal.yaml', 'full.yaml'].map((f) => join(root, 'examples', f));
  for (const args of [
    ['plan', '-f', examples[0]],
    ['plan', '-f', examples[1], '--json'],
    ['plan', '--detailed-exitcode'],
    ['validate', '-f', examples[1]],
    ['status', '-f', examples[0]],
  ]) {
    said = '';
    const code = await loaded.cli.main(args, io);
    // Plans exit 2 here (nothing is installed), validate 0, status 1 (nothing runs); 70 is an
    // internal error: a broken build.
    if (code === 70 || said.includes('internal error') || said.includes('problem')) throw new Error(`vm ${args.join(' ')} failed while warming up:\n${said}`);
  }
  loaded.saveCache();
}

main()
  .finally(() => rmSync(home, { recursive: true, force: true }))
  .catch((e) => {
    process.stderr.write(`warm-cache: ${e && e.stack ? e.stack : e}\n`);
    process.exitCode = 1;
  });
