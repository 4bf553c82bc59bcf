// systemd user units. What vm reads of a unit comes from the user manager's D-Bus socket
// (host.systemdUnitProperties, ~1 ms), or, when that does not answer, from one
// `systemctl --user show` (~6–10 ms, and it explains what is wrong). Changes go through
// `systemctl --user` (systemctlVerb), the only function here that changes state.

import type { UnitState } from '../model.js';
import type { ExecResult, Host } from './host.js';

const PROPS = [
  'LoadState',
  'ActiveState',
  'SubState',
  'UnitFileState',
  'NeedDaemonReload',
  'MainPID',
  'FragmentPath',
  'ExecMainStartTimestampMonotonic',
] as const;

export type ShowResult = { readonly ok: true; readonly unit: UnitState } | { readonly ok: false; readonly why: string };

export async function showUnit(host: Host, unit: string): Promise<ShowResult> {
  const viaBus = await host.systemdUnitProperties(unit, PROPS);
  if (viaBus !== undefined) return { ok: true, unit: unitState(viaBus, monotonicNowMs(), host.now()) };
  const r = await host.exec('systemctl', ['--user', 'show', unit, '-p', PROPS.join(',')], { timeoutMs: 10_000 });
  if (r.code !== 0) return { ok: false, why: whyUnavailable(r) };
  return { ok: true, unit: parseShow(r.stdout, monotonicNowMs(), host.now()) };
}

export function parseShow(stdout: string, monoNowMs: number, wallNowMs: number): UnitState {
  const p = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) p.set(line.slice(0, i), line.slice(i + 1));
  }
  return unitState(p, monoNowMs, wallNowMs);
}

/** The unit as vm sees it, from properties in `systemctl show` form (from either source). */
export function unitState(p: ReadonlyMap<string, string>, monoNowMs: number, wallNowMs: number): UnitState {
  const mainPid = Number(p.get('MainPID') ?? '0') || 0;
  const startMonoUs = Number(p.get('ExecMainStartTimestampMonotonic') ?? '0') || 0;
  return {
    loadState: p.get('LoadState') ?? '',
    activeState: p.get('ActiveState') ?? '',
    subState: p.get('SubState') ?? '',
    unitFileState: p.get('UnitFileState') ?? '',
    needDaemonReload: p.get('NeedDaemonReload') === 'yes',
    mainPid,
    fragmentPath: p.get('FragmentPath') ?? '',
    // systemd reports the start on CLOCK_MONOTONIC; convert to wall time to compare with mtimes.
    startedAtMs: mainPid > 0 && startMonoUs > 0 ? wallNowMs - (monoNowMs - startMonoUs / 1000) : undefined,
  };
}

export type SystemctlVerb = 'daemon-reload' | 'enable' | 'disable' | 'start' | 'restart' | 'reset-failed' | 'stop';

export async function systemctlVerb(host: Host, verb: SystemctlVerb, unit?: string): Promise<ExecResult> {
  const args = ['--user', verb, ...(unit === undefined ? [] : [unit])];
  return host.exec('systemctl', args, { timeoutMs: 60_000 });
}

function whyUnavailable(r: ExecResult): string {
  if (r.code === 127) return 'systemctl was not found';
  const first = (r.stderr.trim().split('\n')[0] ?? '').trim();
  return `systemctl --user does not answer (${first || r.error || `exit ${r.code}`})`;
}

function monotonicNowMs(): number {
  // process.hrtime is CLOCK_MONOTONIC on Linux, the clock systemd's *Monotonic properties use.
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}
