// install.method: script. Runs LiveKit's official install script (`curl -sSL https://get.livekit.io
// | bash`) so that it can neither escalate nor prompt, then installs what it produced like a
// release: versionsDir/X.Y.Z/livekit-server, and the link switched atomically.
//
// - INSTALL_PATH is a fresh directory vm owns, so the script has no reason to use sudo (it does
//   only when INSTALL_PATH is not writable; scripts before livekit/livekit#3954 ignore
//   INSTALL_PATH and write to /usr/local/bin: then nothing lands here and vm says so).
// - A `sudo` that refuses comes first on its PATH, stdin is /dev/null and the script runs in a
//   new session with no controlling terminal, so nothing can wait for a password.
// - The script installs the latest release whatever was declared, and checks no checksum (the
//   plan warns). A declared X.Y.Z that differs from what it installed fails; nothing is switched.

import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UserError } from '../../errors.js';
import type { Host } from '../host.js';
import { downloadText } from './download.js';
import { switchLink } from './install.js';

const VERSION = /^\d+\.\d+\.\d+$/;
const TIMEOUT_MS = 10 * 60_000;
const SUDO = '#!/bin/sh\necho "vm: the install script asked for sudo ($*); vm runs it unprivileged with INSTALL_PATH in a directory it owns" >&2\nexit 1\n';

export interface ScriptInstall {
  readonly scriptUrl: string;
  /** Declared X.Y.Z; '' (or anything else) accepts whatever the script installs. */
  readonly version: string;
  readonly versionsDir: string;
  readonly link: string;
}

export async function installWithScript(host: Host, e: ScriptInstall): Promise<void> {
  // downloadText applies the base_url policy (https, or http to loopback only) to every hop.
  const script = await downloadText(e.scriptUrl, { timeoutMs: 30_000 });
  const versionsDir = resolve(e.versionsDir);
  const createdVersions = (await mkdir(versionsDir, { recursive: true, mode: 0o755 })) !== undefined;
  const work = await mkdtemp(join(versionsDir, '.script-')); // 0700
  const installPath = join(work, 'bin');
  let createdVersionDir: string | undefined;
  let done = false;
  try {
    await mkdir(installPath, { mode: 0o700 }); // the script refuses an INSTALL_PATH that does not exist
    await mkdir(join(work, 'shim'), { mode: 0o700 });
    await writeFile(join(work, 'shim', 'sudo'), SUDO, { mode: 0o755 });
    await writeFile(join(work, 'install.sh'), script, { mode: 0o600 });
    const env = { ...host.env, INSTALL_PATH: installPath, PATH: `${join(work, 'shim')}:${host.env['PATH'] ?? '/usr/bin:/bin'}` };
    const run = await runBash(join(work, 'install.sh'), work, env);
    if (run.code !== 0) throw new UserError('INSTALL_FAILED', `the install script from ${e.scriptUrl} failed (${run.how}): ${lastLine(run.output)}`);

    const produced = join(installPath, 'livekit-server');
    const v = await host.exec(produced, ['--version'], { timeoutMs: 10_000 });
    if (v.code === 127 && /ENOENT/.test(v.error ?? '')) {
      throw new UserError('INSTALL_FAILED', `the install script finished but left no livekit-server in INSTALL_PATH (${lastLine(run.output)})`, 'scripts older than livekit/livekit#3954 ignore INSTALL_PATH; use install.method: release');
    }
    const installed = /livekit-server version (\S+)/.exec(v.stdout)?.[1];
    if (v.code !== 0 || installed === undefined || !VERSION.test(installed)) {
      throw new UserError('INSTALL_FAILED', `the livekit-server the install script produced does not run: ${lastLine(v.stderr || v.stdout || v.error || `exit ${v.code}`)}`);
    }
    if (VERSION.test(e.version) && installed !== e.version) {
      throw new UserError('INSTALL_FAILED', `the install script installed livekit-server ${installed}, not the declared ${e.version}; nothing was switched`, 'the script always installs the latest release: declare that version, or use install.method: release to pin one');
    }
    const versionDir = join(versionsDir, installed);
    if ((await mkdir(versionDir, { recursive: true, mode: 0o755 })) !== undefined) createdVersionDir = versionDir;
    const binary = join(versionDir, 'livekit-server');
    const tmp = `${binary}.tmp-${work.slice(-6)}`;
    await rename(produced, tmp); // same file system: both under versionsDir
    await chmod(tmp, 0o755);
    await rename(tmp, binary);
    await switchLink(e.link, binary);
    done = true;
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (err instanceof UserError || typeof code !== 'string') throw err;
    throw new UserError('INSTALL_FAILED', `installing livekit-server with the install script failed: ${(err as Error).message}`);
  } finally {
    await rm(work, { recursive: true, force: true });
    if (!done && createdVersionDir !== undefined) await rmdir(createdVersionDir).catch(() => undefined);
    if (!done && createdVersions) await rmdir(versionsDir).catch(() => undefined);
  }
}

/** `bash file` in its own session, stdin /dev/null; output kept (last 64 KiB) for the error. */
function runBash(file: string, cwd: string, env: Record<string, string | undefined>): Promise<{ code: number; how: string; output: string }> {
  return new Promise((done) => {
    const child = spawn('bash', [file], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (b: Buffer) => void (output = (output + b.toString('utf8')).slice(-64 * 1024));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    // Its own process group: a timeout takes down curl, tar and whatever else it started.
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL'); // never -0: that is vm's own group
      } catch {
        // already gone
      }
    }, TIMEOUT_MS);
    child.once('error', (err) => (clearTimeout(timer), done({ code: 127, how: `cannot run bash: ${err.message}`, output })));
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      done({ code: code ?? 1, how: sig === null ? `exit ${code}` : sig === 'SIGKILL' ? `killed after ${TIMEOUT_MS / 60_000} min` : `killed by ${sig}`, output });
    });
  });
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter((l) => l.trim() !== '').at(-1)?.trim() ?? '(no output)';
}
