// Observes LiveKit's resources. Never changes anything; everything absent is a value.
// Probes run concurrently: `vm plan` waits for the slowest, not for the sum.

import { BREW_FORMULA } from './defaults.js';
import { join } from 'node:path';
import type { BinaryState, FileState, HealthState } from '../../model.js';
import type { LiveKitDesired, LiveKitObserved, LiveKitPaths } from './model.js';
import type { Facts } from '../../facts/facts.js';
import type { Host } from '../../platform/host.js';
import { listening, ownersOf } from '../../platform/port-holder.js';
import { foreignOf, localAddresses } from '../../resources/listening.js';
import { observeHealth } from '../../resources/health.js';
import { parseRecord } from '../../resources/ownership.js';
import { pingRedis } from '../../resources/redis-ping.js';
import { healthUrl, LIVEKIT_HEALTH } from './render.js';
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

export async function observeLiveKit(host: Host, d: LiveKitDesired, paths: LiveKitPaths, facts: Facts, versions?: VersionCache, slow?: SlowAnswers): Promise<LiveKitObserved> {
  const binaryPath = d.install.method === 'brew' ? (slow?.brewBinary ?? (await brewBinary(host))) : paths.binary;
  if (slow !== undefined && d.install.method === 'brew') slow.brewBinary = binaryPath;
  // One round of concurrent probes: the systemd unit file, vm's record and lingering are read
  // before the supervisor is known (they are cheap, and systemd is the common case), so the plan
  // waits for one round trip, not two.
  const [sup, binary, installedVersions, latest, brewVersion, config, keyFile, keyDir, logDir, health, unitFile, written, lingering, listeners, redis] = await Promise.all([
    facts.supervise((kind) => serviceSpec(d, paths, kind, binaryPath)),
    observeBinary(host, binaryPath, d.install.method === 'release' || d.install.method === 'script', versions, paths.versionRecord),
    host.readdir(paths.versionsDir).then((names) => names.filter((n) => VERSION_DIR.test(n))),
    d.version === 'latest' && d.install.method === 'release' ? latestOf(host, d.install.baseUrl, slow) : Promise.resolve(undefined),
    d.install.method === 'brew' && d.version !== '' ? import('../../platform/brew.js').then((b) => b.brewStableVersion(host, BREW_FORMULA)) : Promise.resolve(undefined),
    host.readFile(paths.config),
    host.readFile(paths.keyFile),
    host.stat(paths.dir),
    host.stat(paths.logDir),
    observeHealth(host, healthUrl(d), LIVEKIT_HEALTH),
    host.readFile(paths.unitFile),
    host.readFile(paths.writtenRecord).then(parseRecord),
    facts.lingering(),
    // Who listens on LiveKit's HTTP port (on its bind addresses) and on rtc.tcp_port (on every
    // interface: the real server binds it there, whatever bind_addresses says). Read now; whether
    // that is vm's LiveKit needs its pid, below. Undefined without /proc (launchd on macOS):
    // there the plain GET / answer is all vm knows, as before.
    listening(host, [{ port: d.port, addresses: d.bindAddresses }, { port: d.rtc.tcpPort, addresses: [] }]),
    // LiveKit exits at start when its Redis does not answer: ask it now (PING, with AUTH), so the
    // plan can refuse a start that would fail. An observation: the plan stays pure.
    d.redis === undefined || d.state === 'absent' ? Promise.resolve(undefined) : pingRedis(host, d.redis),
  ]);
  const kind = sup.supervisor.kind === 'unavailable' ? undefined : sup.supervisor.kind;
  const exposed = await observeExposure(host, d, paths, facts);
  const [definition, owners] = await Promise.all([
    kind === 'systemd' ? unitFile : kind === 'launchd' ? host.readFile(paths.plistFile) : ABSENT,
    ownersOf(host, listeners, sup.runtime?.running === true ? sup.runtime.pid : undefined),
  ]);
  const holder = foreignOf(owners?.[0]);
  const rtcHolder = foreignOf(owners?.[1]);
  return {
    kind: 'livekit',
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
    ...(holder === undefined ? {} : { portHolder: holder }),
    ...(rtcHolder === undefined ? {} : { rtcPortHolder: rtcHolder }),
    ...(redis === undefined ? {} : { redis }),
    localAddresses: localAddresses(host),
    definition,
    runtime: sup.runtime,
    // Whatever answered GET /, it was not vm's LiveKit: health is LiveKit's own answer only.
    health: holder === undefined ? health : { kind: 'foreign', ...holder },
    ...exposed,
  };
}

/**
 * The tailnet and `tailscale serve`, asked only when the file declares `expose` or vm's record
 * names an endpoint it made (to remove it): a plan without either never runs tailscale.
 */
async function observeExposure(host: Host, d: LiveKitDesired, paths: LiveKitPaths, facts: Facts): Promise<Pick<LiveKitObserved, 'tailnet' | 'serve' | 'serveRecord'>> {
  const { parseServeRecord } = await import('./expose.js');
  const record = parseServeRecord(await host.readFile(paths.serveRecord));
  if (d.expose === undefined && record === undefined) return {};
  const tailnet = await facts.tailnet();
  const wantsServe = (d.expose?.https === true && d.state !== 'absent') || record !== undefined;
  const serve = wantsServe && tailnet.kind === 'running' ? await (await import('../../facts/tailnet.js')).observeServe(host, tailnet.binary) : undefined;
  return { tailnet, ...(serve === undefined ? {} : { serve }), ...(record === undefined ? {} : { serveRecord: record }) };
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
