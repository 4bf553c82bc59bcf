#!/usr/bin/env node
// Entry point: the bundled CLI (built by `npm run build`, which `npm ci` runs via `prepare`).
let cli;
try {
  cli = await import('../dist/vm.mjs');
} catch (e) {
  if (e?.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('vm: not built yet: run `npm run build` (npm ci does it for you)\n');
    process.exit(1);
  }
  throw e;
}
// `vm logs | head`: the reader went away; that is a normal end, not an error.
process.stdout.on('error', (e) => {
  if (e?.code === 'EPIPE') process.exit(0);
  throw e;
});
const isTTY = Boolean(process.stdin.isTTY && process.stdout.isTTY);
process.exitCode = await cli.main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  isTTY,
  env: process.env,
  cwd: process.cwd(),
  prompt: isTTY
    ? async (q) => {
        const { createInterface } = await import('node:readline/promises');
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        try {
          return await rl.question(q);
        } finally {
          rl.close();
        }
      }
    : undefined,
});
