// Observes LiveKit's resources. Never changes anything; everything absent is a value.
// Probes run concurrently: `vm plan` waits for the slowest, not for the sum.

import { join } from 'node:path';
import type { BinaryState, FileState, HealthState, LiveKitDesired, LiveKitObserved, RuntimeState, ServicePaths, SupervisorKind, SupervisorState } from '../../model.js';
import { parseFailureRecord } from '../../apply/failure-record.js';
import { UserError } from '../../errors.js';
import type { Host } from '../../platform/host.js';
import { supervisorFor } from '../../platform/supervisor.js';
import { portHolder } from '../../platform/port-holder.js';
import { parseRecord } from './ownership.js';
import { healthUrl } from './render.js';
import { serviceSpec } from './supervision.js';
import { fileIdentity, parseVersionRecord } from './version-record.js';
import { resolveLatest } from './versions.js';

const VERSION_DIR = /^\d+\.\d+\.\d+$/;
const ABSENT: FileState = { exists: false };

/**
 * `livekit-server --version` answers per binary file. A long-running `vm watch` keeps one of
 * these so an unchanged binary (same path, inode, size, mtime) is not executed every cycle.
 */
export type VersionCache = Map<string, BinaryState>;

/**
 * What a long-running watch may remember between cycles besides binary versions: the answer to
 * `{base_url}/latest` (for 15 minutes: a watch must not ask GitHub every 30 s) and Homebrew's
 * prefix (for the life of the process: `brew --prefix` is slow).
 */
export interface SlowAnswers {
  latest?: { readonly url: string; readonly at: number; readonly answer: NonNullable<LiveKitObserved['latest']> };
  brewBinary?: string;
}

const LATEST_TTL_MS = 15 * 60_000;

export async function observeLiveKit(host: Host, d: LiveKitDesired, paths: ServicePaths, wanted: 'auto' | SupervisorKind, versions?: VersionCache, slow?: SlowAnswers): Promise<LiveKitObserved> {
  const binaryPath = d.install.method === 'brew' ? (slow?.brewBinary ?? (await brewBinary(host))) : paths.binary;
  if (slow !== undefined && d.install.method === 'brew') slow.brewBinary = binaryPath;
  // One round of concurrent probes: the systemd unit file, vm's record and lingering are read
  // before the supervisor is known (they are cheap, and systemd is the common case), so the plan
  // waits for one round trip, not two.
  const [sup, binary, installedVersions, latest, brewVersion, config, keyFile, keyDir, logDir, health, unitFile, written, lingering, failed] = await Promise.all([
    observeSupervisor(host, wanted, (kind) => serviceSpec(d, paths, kind, binaryPath)),
    observeBinary(host, binaryPath, d.install.method === 'release' || d.install.method === 'script', versions, paths.versionRecord),
    host.readdir(paths.versionsDir).then((names) => names.filter((n) => VERSION_DIR.test(n))),
    d.version === 'latest' && d.install.method === 'release' ? latestOf(host, d.install.baseUrl, slow) : Promise.resolve(undefined),
    d.install.method === 'brew' && d.version !== '' ? import('../../platform/brew.js').then((b) => b.brewStableVersion(host)) : Promise.resolve(undefined),
    host.readFile(paths.config),
    host.readFile(paths.keyFile),
    host.stat(paths.dir),
    host.stat(paths.logDir),
    observeHealth(host, healthUrl(d)),
    host.readFile(paths.unitFile),
    host.readFile(paths.writtenRecord).then(parseRecord),
    host.platform === 'linux' ? observeLingering(host) : Promise.resolve(undefined),
    host.readFile(paths.failureRecord).then(parseFailureRecord),
  ]);
  const kind = sup.supervisor.kind === 'unavailable' ? undefined : sup.supervisor.kind;
  const [definition, holder] = await Promise.all([
    kind === 'systemd' ? unitFile : kind === 'launchd' ? host.readFile(paths.plistFile) : ABSENT,
    health.kind === 'healthy' ? Promise.resolve(undefined) : portHolder(host, d.port),
  ]);
  return {
    supervisor: sup.supervisor,
    binary,
    installedVersions,
    ...(latest === undefined ? {} : { latest }),
    ...(brewVersion === undefined ? {} : { brewVersion }),
    ...(lingering === undefined || kind !== 'systemd' ? {} : { lingering }),
    config,
    keyFile,
    keyDirMode: keyDir?.mode,
    logDirMode: logDir?.mode,
    logDirExists: logDir !== undefined,
    written,
    ...(failed === undefined ? {} : { failed }),
    ...(holder === undefined ? {} : { portHolder: holder }),
    definition,
    runtime: sup.runtime,
    health,
  };
}

/**
 * Which supervisor runs LiveKit here. `auto`: systemd when a user manager answers, launchd on
 * macOS, otherwise vm's own process supervisor. The systemd probe is also systemd's state read.
 */
export async function observeSupervisor(
  host: Host,
  wanted: 'auto' | SupervisorKind,
  spec: (kind: SupervisorKind) => import('../../model.js').ServiceSpec,
): Promise<{ supervisor: SupervisorState; runtime: RuntimeState | undefined }> {
  const tryKind = async (kind: SupervisorKind, why: string) => {
    try {
      const runtime = await (await supervisorFor(kind)).observe(host, spec(kind));
      return { supervisor: { kind, why } as SupervisorState, runtime };
    } catch (e) {
      if (e instanceof UserError && e.code === 'SUPERVISOR_UNAVAILABLE') return { supervisor: { kind: 'unavailable', wanted, why: e.message } as SupervisorState, runtime: undefined };
      throw e;
    }
  };
  if (wanted !== 'auto') return tryKind(wanted, `supervisor: ${wanted} in the file`);
  if (host.platform === 'darwin') return tryKind('launchd', 'auto: macOS');
  const systemd = await tryKind('systemd', 'auto: a systemd user manager answers');
  if (systemd.supervisor.kind !== 'unavailable') return systemd;
  return tryKind('process', `auto: no systemd user manager (${systemd.supervisor.why}); vm supervises the process itself`);
}

/**
 * The binary at `path` and its version: from `versions` (a watch's memory), else from the record
 * apply keeps (`recordPath`, see version-record.ts) when it names this very file, else from
 * running `path --version`.
 */
export async function observeBinary(host: Host, path: string, managed: boolean, versions?: VersionCache, recordPath?: string): Promise<BinaryState> {
  const file = await host.stat(path);
  if (file === undefined || file.kind !== 'file') return { kind: 'absent', path };
  const identity = fileIdentity(file);
  const key = `${path}\0${identity}`;
  const known = versions?.get(key);
  if (known !== undefined) return known;
  // Read only on a miss: a watch that already knows this file does not re-read the record.
  const recorded = recordPath === undefined ? undefined : parseVersionRecord(await host.readFile(recordPath)).get(path);
  const [version, link] = await Promise.all([
    recorded?.identity === identity ? { version: recorded.version } : runVersion(host, path),
    managed ? host.readlink(path) : Promise.resolve(undefined),
  ]);
  const state: BinaryState =
    'detail' in version ? { kind: 'broken', path, detail: version.detail } : { kind: 'present', path, version: version.version, mtimeMs: file.mtimeMs, identity, ...(link === undefined ? {} : { target: link }) };
  versions?.set(key, state);
  return state;
}

async function runVersion(host: Host, path: string): Promise<{ version: string } | { detail: string }> {
  const r = await host.exec(path, ['--version'], { timeoutMs: 5_000 });
  const m = /version\s+v?(\d+\.\d+\.\d+)/.exec(r.stdout);
  if (r.code !== 0 || m?.[1] === undefined) return { detail: r.error ?? `exit ${r.code}: ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`.trim() };
  return { version: m[1] };
}

export async function observeHealth(host: Host, url: string, timeoutMs = 1_000): Promise<HealthState> {
  return classifyHealth(await host.httpGet(url, timeoutMs));
}

export function classifyHealth(r: Awaited<ReturnType<Host['httpGet']>>): HealthState {
  if (!r.ok) return { kind: 'unhealthy', detail: r.error };
  // Only `/` says whether LiveKit is ready; there is no /health endpoint (FACTS.md).
  if (r.status === 200 && r.body.trim() === 'OK') return { kind: 'healthy' };
  if (r.status === 406) return { kind: 'starting', status: 406 };
  return { kind: 'unhealthy', detail: `GET / answered ${r.status}` };
}

/** logind keeps one file per lingering user; no logind (containers, WSL) → unknown. */
async function observeLingering(host: Host): Promise<boolean | undefined> {
  const user = host.env['USER'] ?? host.env['LOGNAME'];
  if (user === undefined || (await host.stat('/var/lib/systemd/linger')) === undefined) return undefined;
  return (await host.stat(join('/var/lib/systemd/linger', user))) !== undefined;
}

async function latestOf(host: Host, baseUrl: string, slow: SlowAnswers | undefined): Promise<NonNullable<LiveKitObserved['latest']>> {
  const known = slow?.latest;
  if (known !== undefined && known.url === baseUrl && known.answer.ok && host.now() - known.at < LATEST_TTL_MS) return known.answer;
  const answer = await resolveLatest(host, baseUrl);
  if (slow !== undefined) slow.latest = { url: baseUrl, at: host.now(), answer };
  return answer;
}

async function brewBinary(host: Host): Promise<string> {
  const { brewPrefix } = await import('../../platform/brew.js');
  const prefix = await brewPrefix(host);
  return prefix === undefined ? '(brew not found)' : join(prefix, 'bin', 'livekit-server');
}
