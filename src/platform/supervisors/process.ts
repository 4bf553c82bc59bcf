// vm's own supervisor, for machines without systemd (WSL, containers): LiveKit runs detached in
// its own session and a PID file says which process is ours. Nothing restarts it when it dies and
// nothing starts it at login: the next `vm apply` (or `vm watch`) sees that and starts it again.
//
// A PID file outlives its process, and PIDs are reused (pid_max is 32768 on many machines), so a
// live PID proves nothing: observe also checks that the process runs our arguments and started when
// we started it. Only then is it signalled; a PID file naming anything else is just removed.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { FileState, RuntimeState, ServiceSpec } from '../../model.js';
import { UserError } from '../../errors.js';
import type { Host } from '../host.js';
import type { Supervisor } from '../supervisor.js';

/** LiveKit drains its rooms on SIGTERM (FACTS.md); after this it is killed. */
const TERM_WAIT_MS = 10_000;
const KILL_WAIT_MS = 3_000;
const POLL_MS = 100;
/** USER_HZ, the unit of /proc/PID/stat times: 100 on every Linux ABI (`getconf CLK_TCK`). */
const CLK_TCK = 100;
/** /proc/stat's btime is whole seconds, so a start computed from it can read up to 1 s early. */
const EARLY_SLACK_MS = 2_000;
/** started_at_ms is read just before fork; a process that began much later is a reused PID. */
const LATE_SLACK_MS = 10_000;
/** What LiveKit inherits: LIVEKIT_* variables would override its config, and a shell may hold tokens. */
const ENV_KEPT = ['HOME', 'USER', 'LOGNAME', 'PATH', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];

interface PidRecord {
  readonly pid: number;
  /** Wall clock just before the fork: the planner compares it with file mtimes. */
  readonly started_at_ms: number;
  readonly argv: readonly string[];
  /** Linux: /proc/PID/stat starttime. Exact, and immune to wall-clock jumps (WSL after sleep). */
  readonly start_ticks?: number;
}

type Found =
  | { readonly kind: 'none' }
  | { readonly kind: 'unreadable'; readonly why: string }
  | { readonly kind: 'ours' | 'gone'; readonly rec: PidRecord }
  | { readonly kind: 'foreign'; readonly rec: PidRecord; readonly program: string };

export const processSupervisor: Supervisor = {
  kind: 'process',
  async observe(host, svc) {
    return runtimeOf(await find(host, svc), svc);
  },
  async run(host, svc, verb) {
    switch (verb) {
      case 'start':
        return start(host, svc);
      case 'stop':
        return stop(host, svc);
      case 'restart':
        await stop(host, svc);
        return start(host, svc);
      // No definition file to load or unload, and nothing runs at login without a service
      // manager: these verbs have nothing to do here (the planner warns about autostart).
      case 'reload': case 'unload': case 'enable': case 'disable':
        return;
    }
  },
};

function runtimeOf(f: Found, svc: ServiceSpec): RuntimeState {
  const base = { loaded: true, loadDetail: '', enabled: undefined, running: false, pid: 0, startedAtMs: undefined };
  switch (f.kind) {
    case 'ours': return { ...base, running: true, pid: f.rec.pid, startedAtMs: f.rec.started_at_ms, state: `running (pid ${f.rec.pid})` };
    case 'none': return { ...base, state: 'no pid file' }; // callers say "not running: …"
    case 'unreadable': return { ...base, state: `unreadable pid file ${svc.pidFile} (${f.why})` };
    case 'gone': return { ...base, state: `stale pid file (pid ${f.rec.pid} is gone)` };
    case 'foreign': return { ...base, state: `stale pid file (pid ${f.rec.pid} is another program: ${f.program})` };
  }
}

async function start(host: Host, svc: ServiceSpec): Promise<void> {
  if ((await find(host, svc)).kind === 'ours') return;
  const argv = [svc.binary, ...svc.args];
  let child: ChildProcess;
  let startedAtMs: number;
  try {
    // The planner creates the log directory; this only covers a direct call. Never chmods.
    mkdirSync(dirname(svc.logFile), { recursive: true, mode: 0o700 });
    const log = openSync(svc.logFile, 'a', 0o600);
    try {
      startedAtMs = host.now();
      // detached: setsid(), so LiveKit has no terminal and outlives vm and its process group.
      // stdin is /dev/null; cwd is vm's log directory (under HOME, never /).
      const env = { ...Object.fromEntries(ENV_KEPT.flatMap((k) => (host.env[k] === undefined ? [] : [[k, host.env[k]]]))), ...svc.env };
      child = spawn(svc.binary, svc.args, { detached: true, stdio: ['ignore', log, log], cwd: svc.workingDir ?? dirname(svc.logFile), env });
      await new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));
    } finally {
      closeSync(log);
    }
  } catch (e) {
    throw new UserError('STEP_FAILED', `cannot start ${svc.binary}: ${(e as Error).message}`);
  }
  child.unref(); // vm may exit; LiveKit keeps running
  const pid = child.pid ?? 0;
  try {
    const ticks = host.platform === 'linux' ? (await viaProc(host, pid))?.ticks : undefined;
    const rec: PidRecord = { pid, started_at_ms: startedAtMs, argv, ...(ticks === undefined ? {} : { start_ticks: ticks }) };
    await host.writeFileAtomic(svc.pidFile, `${JSON.stringify(rec)}\n`, 0o600, 0o700);
  } catch (e) {
    child.kill('SIGKILL'); // without a PID file nothing could ever stop it
    throw new UserError('STEP_FAILED', `cannot write ${svc.pidFile}: ${(e as Error).message}`);
  }
}

async function stop(host: Host, svc: ServiceSpec): Promise<void> {
  const f = await find(host, svc);
  if (f.kind === 'none') return;
  if (f.kind === 'ours') {
    signal(f.rec.pid, 'SIGTERM');
    if (!(await waitGone(host, svc, TERM_WAIT_MS))) {
      signal(f.rec.pid, 'SIGKILL');
      if (!(await waitGone(host, svc, KILL_WAIT_MS))) throw new UserError('STEP_FAILED', `pid ${f.rec.pid} did not exit, even after SIGKILL`);
    }
  }
  await host.remove(svc.pidFile); // stale, foreign or unreadable: only the file goes
}

async function waitGone(host: Host, svc: ServiceSpec, ms: number): Promise<boolean> {
  const end = host.now() + ms;
  while ((await find(host, svc)).kind === 'ours') {
    if (host.now() >= end) return false;
    await host.sleep(POLL_MS);
  }
  return true;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    // ESRCH: it exited meanwhile, which is what we want.
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw new UserError('STEP_FAILED', `cannot send ${sig} to pid ${pid}: ${(e as Error).message}`);
  }
}

async function find(host: Host, svc: ServiceSpec): Promise<Found> {
  const file = await host.readFile(svc.pidFile);
  if (!file.exists) return { kind: 'none' };
  const rec = parseRecord(file.content);
  if (typeof rec === 'string') return { kind: 'unreadable', why: rec };
  const proc = host.platform === 'linux' && (await host.stat('/proc/self/stat')) !== undefined;
  const seen = proc ? await viaProc(host, rec.pid) : await viaPs(host, rec.pid);
  if (seen === undefined) return { kind: 'gone', rec };
  // Our arguments (`--config <path>`), not argv[0]: a wrapper script may exec an interpreter.
  const want = rec.argv.slice(1);
  const sameArgs = want.length > 0 && seen.args.includes(`${seen.sep}${want.join(seen.sep)}${seen.sep}`);
  const sameStart =
    rec.start_ticks !== undefined && seen.ticks !== undefined
      ? seen.ticks === rec.start_ticks
      : seen.startMs >= rec.started_at_ms - EARLY_SLACK_MS - seen.slackMs && seen.startMs <= rec.started_at_ms + LATE_SLACK_MS + seen.slackMs;
  return sameArgs && sameStart ? { kind: 'ours', rec } : { kind: 'foreign', rec, program: seen.program };
}

function parseRecord(text: string): PidRecord | string {
  let r: Partial<PidRecord>;
  try {
    r = JSON.parse(text) as Partial<PidRecord>;
  } catch {
    return 'not JSON';
  }
  // pid 0, -1 or our own would make kill() hit a process group, everything, or vm itself.
  if (!Number.isSafeInteger(r.pid) || (r.pid ?? 0) < 2 || r.pid === process.pid) return `bad pid ${String(r.pid)}`;
  if (!Number.isFinite(r.started_at_ms) || !Array.isArray(r.argv) || !r.argv.every((a) => typeof a === 'string')) return 'missing started_at_ms or argv';
  return r as PidRecord;
}

/** A live process as the system describes it; `args`: its arguments, each followed by `sep`. */
type Seen = { readonly program: string; readonly args: string; readonly sep: string; readonly startMs: number; readonly slackMs: number; readonly ticks?: number };

/** Linux: file reads only (observe runs on every plan). Undefined when gone or a zombie. */
async function viaProc(host: Host, pid: number): Promise<Seen | undefined> {
  let st: FileState, cmd: FileState, sys: FileState;
  try {
    [st, cmd, sys] = await Promise.all([host.readFile(`/proc/${pid}/stat`), host.readFile(`/proc/${pid}/cmdline`), host.readFile('/proc/stat')]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return undefined; // it exited while we read
    throw e;
  }
  if (!st.exists) return undefined;
  // comm (field 2) is in parentheses and may hold spaces or ')': fields count from the last ')'.
  const close = st.content.lastIndexOf(')');
  const fields = st.content.slice(close + 2).split(' ');
  // A zombie has exited; nobody reaps orphans in some containers, so it can linger for ever.
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  const ticks = Number(fields[19]);
  const btime = sys.exists ? Number(/^btime (\d+)$/m.exec(sys.content)?.[1]) : Number.NaN;
  const program = st.content.slice(st.content.indexOf('(') + 1, close);
  return { program, args: `\0${cmd.exists ? cmd.content : ''}`, sep: '\0', startMs: btime * 1000 + (ticks * 1000) / CLK_TCK, slackMs: 0, ticks };
}

/** Without /proc (macOS, BSD): kill(pid, 0), then `ps` for the arguments and elapsed time. */
async function viaPs(host: Host, pid: number): Promise<Seen | undefined> {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
    return { program: "(another user's)", args: '', sep: ' ', startMs: Number.NaN, slackMs: 0 };
  }
  const r = await host.exec('ps', ['-o', 'stat=', '-o', 'etime=', '-o', 'command=', '-p', String(pid)], { timeoutMs: 5_000 });
  const m = /^\s*(\S+)\s+(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)\s+(.*)$/.exec(r.stdout.trim());
  if (r.code !== 0 || m === null || m[1]?.startsWith('Z') === true) return undefined;
  const [d, h, min, sec] = [m[2], m[3], m[4], m[5]].map((x) => Number(x ?? 0)) as [number, number, number, number];
  const command = m[6] ?? '';
  // etime ([[dd-]hh:]mm:ss) has whole seconds: one more second of slack.
  return { program: basename(command.split(' ')[0] ?? ''), args: ` ${command} `, sep: ' ', startMs: host.now() - (((d * 24 + h) * 60 + min) * 60 + sec) * 1000, slackMs: 1_000 };
}
