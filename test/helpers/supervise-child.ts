// Runs one supervisor verb in a separate, short-lived Node process, the way `vm apply` would: it
// proves that what the supervisor started outlives the process that started it. The adapters are
// TypeScript and Node 20 cannot load that, so a tiny entry is bundled once with esbuild.

import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceSpec, SupervisorKind, SupervisorVerb } from '../../src/model.js';
import { ROOT } from './vm.js';

const ENTRY = `
import { supervisorFor } from './src/platform/supervisor.js';
import { nodeHost } from './src/platform/node-host.js';
const [kind, verb, svc] = process.argv.slice(2);
const s = await supervisorFor(kind);
await s.run(nodeHost(), JSON.parse(svc), verb);
`;

let bundled: Promise<string> | undefined;

async function bundle(): Promise<string> {
  const { build } = await import('esbuild');
  const dir = await mkdtemp(join(tmpdir(), 'vm-supervise-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'supervise.mjs');
  await build({
    stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'ts', sourcefile: 'supervise-entry.ts' },
    outfile: out,
    bundle: true,
    splitting: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'error',
  });
  return out;
}

export interface ChildResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time until the child process exited. */
  ms: number;
}

/** `kind`.run(host, svc, verb) in a child Node process with exactly `env`; resolves when it exits. */
export async function superviseInChild(kind: SupervisorKind, verb: SupervisorVerb, svc: ServiceSpec, env: Record<string, string>): Promise<ChildResult> {
  bundled ??= bundle();
  const script = await bundled;
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [script, kind, verb, JSON.stringify(svc)], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}
