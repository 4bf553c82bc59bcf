// A real, throw-away `systemd --user` manager for tests (recipe in shared/FACTS.md).
//
// PID 1 here is not systemd, but as root a user manager runs in a private mount namespace with a
// tmpfs on /run/systemd. Everything about it lives under one short temp root (socket paths are
// limited to ~108 bytes): HOME=<root>/home, XDG_CONFIG_HOME=<root>/home/.config,
// XDG_RUNTIME_DIR=<root>/run. Every systemctl call gets that environment explicitly and nothing
// from the outer process, so a test can never reach the real user's manager.
//
// Two things the FACTS.md recipe does not say, learnt here:
// - Each manager must get a cgroup of its own. Otherwise every manager takes the container's root
//   cgroup as its root, and two managers running a unit of the same name share its cgroup:
//   stopping the unit in one SIGKILLs it in the other (seen with two test files in parallel).
// - The first `systemd --user` started from the container's root cgroup moves every process there
//   into /init.scope. That is systemd's doing and harmless; this harness never starts one there.
// A shell watchdog takes the manager down if the test process dies without calling stop().

import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, readlink, rm, rmdir } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** The PATH a user manager gives its units (no ~/bin, no version-manager shims). */
const MINIMAL_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const SYSTEMD = '/lib/systemd/systemd';
const START_TIMEOUT_MS = 10_000;
const EXIT_TIMEOUT_MS = 5_000;

export interface HomeEnv {
  HOME: string;
  XDG_CONFIG_HOME: string;
  XDG_RUNTIME_DIR: string;
}

export interface SystemctlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface UserManager {
  root: string;
  env: HomeEnv;
  /** `$XDG_CONFIG_HOME/systemd/user`, where user unit files go (created). */
  unitDir: string;
  /** Runs `systemctl --user ...args` against this manager. Never throws for a non-zero exit. */
  systemctl(...args: string[]): Promise<SystemctlResult>;
  /** Stops the manager and everything that belongs to the root, then removes the root. Idempotent. */
  stop(): Promise<void>;
}

export interface TempHome {
  root: string;
  /** XDG_RUNTIME_DIR points to an empty dir, so `systemctl --user` finds no manager instead of the real one. */
  env: HomeEnv;
  /** Kills processes that belong to the root (cwd or env), then removes it. Idempotent. */
  cleanup(): Promise<void>;
}

/** Quotes a string for POSIX sh: the result is one word, taken literally. */
function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function onPath(program: string): boolean {
  return MINIMAL_PATH.split(':').some((dir) => {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** True when a private user manager can run here: root, systemd, unshare and systemctl present. */
export function userManagerAvailable(): boolean {
  return process.getuid?.() === 0 && existsSync(SYSTEMD) && onPath('unshare') && onPath('systemctl');
}

async function makeRoot(): Promise<{ root: string; env: HomeEnv }> {
  const root = await mkdtemp('/tmp/vmt-');
  const env: HomeEnv = { HOME: join(root, 'home'), XDG_CONFIG_HOME: join(root, 'home', '.config'), XDG_RUNTIME_DIR: join(root, 'run') };
  await mkdir(env.XDG_CONFIG_HOME, { recursive: true });
  await mkdir(env.XDG_RUNTIME_DIR, { recursive: true });
  await chmod(env.XDG_RUNTIME_DIR, 0o700);
  return { root, env };
}

/** The whole environment of the manager and of systemctl: nothing inherited from this process. */
function isolatedEnv(env: HomeEnv): NodeJS.ProcessEnv {
  const user = process.env.USER ?? 'root';
  return { ...env, PATH: MINIMAL_PATH, LANG: 'C.UTF-8', USER: user, LOGNAME: user, SHELL: '/bin/sh' };
}

function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z'); // a zombie is as good as gone
  } catch {
    return true;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The cgroup directories a manager gets to itself. Without them every user manager started here
 * takes the container's root cgroup as its own, so two managers running the same unit name share
 * one cgroup and stopping the unit in one kills it in the other.
 */
function cgroupDirs(name: string): string[] {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return [`/sys/fs/cgroup/${name}`]; // pure cgroup v2
  return ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified'].filter((h) => existsSync(h)).map((h) => `${h}/${name}`);
}

/** Kills every process in a cgroup tree, then removes its directories, deepest first. */
async function removeCgroup(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return; // never created, or already removed
  }
  for (const e of entries) if (e.isDirectory()) await removeCgroup(join(dir, e.name));
  const deadline = Date.now() + 2_000;
  for (;;) {
    try {
      for (const pid of (await readFile(join(dir, 'cgroup.procs'), 'utf8')).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await rmdir(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      if (Date.now() > deadline) throw new Error(`could not remove cgroup ${dir}: ${(err as Error).message}`);
      await sleep(20);
    }
  }
}

/** SIGKILLs every process (but this one) whose cwd is under `root` or whose env names it as HOME/XDG_RUNTIME_DIR. */
async function killProcessesOf(root: string): Promise<number[]> {
  const marks = new Set([`HOME=${join(root, 'home')}`, `XDG_RUNTIME_DIR=${join(root, 'run')}`]);
  const victims: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid || pid === 1) continue;
    let belongs = false;
    try {
      const cwd = await readlink(`/proc/${pid}/cwd`);
      belongs = cwd === root || cwd.startsWith(`${root}/`);
    } catch {
      // gone, or not ours to read
    }
    if (!belongs) {
      try {
        belongs = (await readFile(`/proc/${pid}/environ`, 'latin1')).split('\0').some((e) => marks.has(e));
      } catch {
        // gone, or not ours to read
      }
    }
    if (belongs) victims.push(pid);
  }
  for (const pid of victims) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 2_000;
  while (victims.some((pid) => !isGone(pid)) && Date.now() < deadline) await sleep(20);
  return victims;
}

// A manager under a loaded machine can take seconds to answer one call; 30 s is far past that.
function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<SystemctlResult> {
  return new Promise((resolve) => {
    execFile(file, args, { env, cwd: '/', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve({ code: 0, stdout, stderr });
      const code = typeof error.code === 'number' ? error.code : 1;
      const note = error.killed ? `\n(killed after ${timeoutMs} ms)` : typeof error.code === 'string' ? `\n(${error.code})` : '';
      resolve({ code, stdout, stderr: stderr + note });
    });
  });
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function within(ms: number, p: Promise<void>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const ok = await Promise.race([p.then(() => true as const), timeout]);
  clearTimeout(timer);
  return ok;
}

/** Starts a private `systemd --user` and waits until it answers (about 0.15 s here). */
export async function startUserManager(opts: { netnsPid?: number } = {}): Promise<UserManager> {
  if (!userManagerAvailable()) throw new Error('startUserManager: needs root, /lib/systemd/systemd, unshare and systemctl');
  const { root, env } = await makeRoot();
  const unitDir = join(env.XDG_CONFIG_HOME, 'systemd', 'user');
  await mkdir(unitDir, { recursive: true });
  const logPath = join(root, 'systemd.log');
  const fullEnv = isolatedEnv(env);

  const cgroups = cgroupDirs(basename(root));
  const cgroupList = cgroups.map(shQuote).join(' ');
  const script = [
    // A watchdog outside the manager's cgroup: if this test process dies without stop() (a worker
    // killed by the runner, where no 'exit' hook runs), it takes the manager, its units and the
    // root down within a second or two. It exits by itself when the manager ends normally.
    `test_pid=${process.pid}; mgr=$$; root=${shQuote(root)}`,
    '(',
    '  while kill -0 "$test_pid" 2>/dev/null && kill -0 "$mgr" 2>/dev/null; do sleep 1; done',
    '  if ! kill -0 "$test_pid" 2>/dev/null; then',
    `    for d in ${cgroupList}; do find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null; done | xargs -r kill -9 2>/dev/null`,
    '    kill -9 "$mgr" 2>/dev/null; sleep 1',
    `    for d in ${cgroupList}; do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done`,
    '    rm -rf "$root"',
    '  fi',
    ') </dev/null >/dev/null 2>&1 &',
    // Own cgroup first (best effort: a warning in the log says why concurrent managers may clash).
    `for d in ${cgroupList}; do`,
    `  mkdir -p "$d" && echo $$ > "$d/cgroup.procs" || echo "vmt: could not move into cgroup $d" >&2`,
    'done',
    `mkdir -p /run/systemd && mount -t tmpfs tmpfs /run/systemd && mkdir -p /run/systemd/system && exec ${SYSTEMD} --user`,
  ].join('\n');
  const logFd = openSync(logPath, 'a');
  // detached: the child calls setsid(), so its pid is also its process group, killable as a whole.
  // netnsPid: run the manager (and so every unit it starts) in that process's network namespace.
  const [cmd, args] = opts.netnsPid === undefined ? ['unshare', ['-m', 'sh', '-c', script]] : ['nsenter', ['-t', String(opts.netnsPid), '-n', 'unshare', '-m', 'sh', '-c', script]];
  const child = spawn(cmd, args, {
    env: fullEnv,
    cwd: env.HOME,
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  child.unref(); // a forgotten manager must not keep the test process alive; the exit hook kills it
  const pid = child.pid;
  const killGroup = () => {
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  // Last resort if the test process ends without stop(): no manager outlives its tests.
  const onProcessExit = () => {
    killGroup();
    rmSync(root, { recursive: true, force: true });
    // The cgroups cannot be removed synchronously while their processes die; empty ones are harmless.
  };
  process.once('exit', onProcessExit);
  const exited = waitForExit(child);

  const systemctl = (...args: string[]) => run('systemctl', ['--user', ...args], fullEnv);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await systemctl('exit');
      if (!(await within(EXIT_TIMEOUT_MS, exited))) {
        killGroup();
        await within(2_000, exited);
      }
      let cgroupError: unknown;
      for (const dir of cgroups) await removeCgroup(dir).catch((err: unknown) => (cgroupError ??= err));
      await killProcessesOf(root);
      await rm(root, { recursive: true, force: true });
      process.off('exit', onProcessExit);
      if (cgroupError !== undefined) throw cgroupError;
    })();
    return stopping;
  };

  const started = Date.now();
  let last: SystemctlResult | undefined;
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  while (Date.now() - started < START_TIMEOUT_MS) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) break;
    last = await systemctl('show-environment');
    if (last.code === 0) return { root, env, unitDir, systemctl, stop };
    await sleep(25);
  }
  const log = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
  const why = spawnError
    ? `could not start unshare: ${spawnError.message}`
    : child.exitCode !== null || child.signalCode !== null
      ? `systemd --user exited (code ${child.exitCode}, signal ${child.signalCode})`
      : `systemd --user did not answer within ${START_TIMEOUT_MS} ms (last: ${last?.stderr.trim() ?? 'no reply'})`;
  await stop();
  throw new Error(`startUserManager: ${why}\n--- ${logPath} ---\n${log}`);
}

/** A temp HOME for tests that need no systemd. */
export async function tempHome(): Promise<TempHome> {
  const { root, env } = await makeRoot();
  let cleaning: Promise<void> | undefined;
  return {
    root,
    env,
    cleanup: () => {
      cleaning ??= (async () => {
        await killProcessesOf(root);
        await rm(root, { recursive: true, force: true });
      })();
      return cleaning;
    },
  };
}
