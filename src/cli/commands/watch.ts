// `vm watch` (also `vm apply --watch`): keeps reconciling until SIGINT/SIGTERM (exit 0, services
// left running; an apply under way stops after its step and rolls back, a second signal skips
// that); SIGHUP re-reads the file now. `--install-service` / `--uninstall-service` put `vm watch`
// itself under systemd or launchd.

import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { rotateLogs } from '../../apply/rotate-logs.js';
import { packageRoot, readAsset } from '../../assets.js';
import { UserError, type StopSignal } from '../../errors.js';
import { resolveRoots } from '../../paths.js';
import { nodeHost } from '../../platform/node-host.js';
import { discoverSpec } from '../../spec/discover.js';
import { loadDesired, loadDesiredForReading } from '../../spec/load.js';
import { parseDuration } from '../../spec/normalise.js';
import { eventSink } from '../../watch/events.js';
import { heapKeeper } from '../../watch/heap.js';
import { startWatch, type Watching } from '../../watch/loop.js';
import { DEFAULT_RETRY } from '../../watch/policy.js';
import { EXIT } from '../exit.js';
import { SKIPPING, STOPPING } from '../interrupts.js';
import type { CliIo } from '../io.js';
import { lockFile } from './apply.js';

export interface WatchFlags {
  file?: string;
  json?: boolean;
  interval?: string;
  debounce?: string;
  maxFailures?: string;
  lockTimeout?: string;
  installService?: boolean;
  uninstallService?: boolean;
}

export async function watchCommand(io: CliIo, o: WatchFlags): Promise<number> {
  const host = nodeHost(io.env);
  if (o.installService === true || o.uninstallService === true) return serviceCommand(io, o);
  const ms = (flag: string, v: string | undefined, dflt: string) => {
    const n = parseDuration(v ?? dflt);
    if (n === undefined || n <= 0) throw new UserError('USAGE', `--${flag} ${v}: not a duration (500ms, 30s, 5m)`);
    return n;
  };
  const maxFailures = Number(o.maxFailures ?? DEFAULT_RETRY.maxFailures);
  if (!Number.isInteger(maxFailures) || maxFailures < 1) throw new UserError('USAGE', `--max-failures ${o.maxFailures}: a whole number from 1`);
  // A watch allocates a little garbage every cycle, and V8 answers by growing its heap long
  // before it needs to: RSS climbed ~35 MiB over 1,000 cycles (heap used stayed ~10 MiB). Sizing
  // the heap for memory, and collecting between cycles (heap.ts), keeps it flat (bench/watch.ts).
  setFlagsFromString('--optimize-for-size');
  const tidy = heapKeeper();
  const emit = eventSink(io.stdout, o.json === true);
  const source = await describeWatched(io, o.file);
  // Handlers before startWatch, which prints watch_start: whoever reads that line may signal at
  // once, and a signal with no handler yet kills vm instead of stopping it (exit 0).
  let watching: Watching | undefined;
  let stopping = false;
  let stopRequested: (signal: StopSignal) => void = () => {};
  const stopped = new Promise<StopSignal>((resolve) => (stopRequested = resolve));
  const stop = (signal: StopSignal) => {
    // Said at once, not after the step under way ends (a health wait can last health.timeout).
    if (stopping) {
      process.off('SIGINT', onInt).off('SIGTERM', onTerm);
      emit({ event: 'watch_stopping', message: SKIPPING });
      watching?.skipRollback();
      return;
    }
    stopping = true;
    process.off('SIGHUP', hup);
    emit({ event: 'watch_stopping', message: STOPPING });
    stopRequested(signal);
  };
  const onInt = () => stop('SIGINT');
  const onTerm = () => stop('SIGTERM');
  // A SIGHUP before the watch runs: its first reconcile reads the file anyway.
  const hup = () => watching?.reload();
  process.on('SIGINT', onInt).on('SIGTERM', onTerm).on('SIGHUP', hup);
  try {
    watching = await startWatch(
      host,
      {
        ...(o.file === undefined ? {} : { file: o.file }),
        ...(source === undefined ? {} : { source }),
        cwd: io.cwd,
        intervalMs: ms('interval', o.interval, '30s'),
        debounceMs: ms('debounce', o.debounce, '200ms'),
        lockTimeoutMs: ms('lock-timeout', o.lockTimeout, '30s'),
        lockFile: () => lockFile(resolveRoots(io.env)),
        retry: { ...DEFAULT_RETRY, maxFailures },
        rotateLogs: (d) => rotateLogs(host, d),
        afterCycle: tidy,
      },
      emit,
    );
    await watching.stop(await stopped);
  } finally {
    process.off('SIGINT', onInt).off('SIGTERM', onTerm).off('SIGHUP', hup);
  }
  return EXIT.ok;
}

const VIA = { flag: 'given with --file', env: 'from VOICEMODE_SERVICES_FILE', search: 'found searching from the working directory', xdg: 'in the XDG config directory' } as const;

/** Which file the watch starts from, for its first line; undefined when it cannot be told now. */
async function describeWatched(io: CliIo, file: string | undefined): Promise<string | undefined> {
  try {
    const s = await discoverSpec({ ...(file === undefined ? {} : { file }), cwd: io.cwd, env: io.env });
    return s.kind === 'file' ? `${s.path} (${VIA[s.via]})` : 'no file yet: the built-in default';
  } catch {
    return undefined; // a named file that is missing: the first reconcile reports it, located
  }
}

async function serviceCommand(io: CliIo, o: WatchFlags): Promise<number> {
  const host = nodeHost(io.env);
  const load = { ...(o.file === undefined ? {} : { file: o.file }), cwd: io.cwd, env: io.env };
  // Uninstalling needs no secret: a file whose secret is not at hand must not keep the watch in.
  const desired = o.installService === true ? await loadDesired(load) : (await loadDesiredForReading(load)).desired;
  const paths = resolveRoots(io.env);
  const { installWatchService, uninstallWatchService } = await import('../../watch/service.js');
  // What the service runs: this installation's own entry point.
  const vmBin = join(packageRoot(), 'bin', 'vm.cjs');
  if (o.installService === true) {
    const done = await installWatchService(host, desired, paths, vmBin, readAsset('templates/watch.service'));
    io.stdout.write(`${done.message}\n`);
    for (const w of done.warnings) io.stderr.write(`warning: ${w}\n`);
    return EXIT.ok;
  }
  io.stdout.write(`${await uninstallWatchService(host, desired, paths, vmBin)}\n`);
  return EXIT.ok;
}
