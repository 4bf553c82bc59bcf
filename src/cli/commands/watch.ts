// `vm watch` (also `vm apply --watch`): keeps reconciling until SIGINT/SIGTERM (exit 0, services
// left running; an apply under way stops after its step and rolls back, a second signal skips
// that); SIGHUP re-reads the file now. `--install-service` / `--uninstall-service` put `vm watch`
// itself under systemd or launchd.

import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { rotateLogs } from '../../apply/rotate-logs.js';
import { packageRoot, readAsset } from '../../assets.js';
import { UserError, type StopSignal } from '../../errors.js';
import { resolvePaths } from '../../paths.js';
import { nodeHost } from '../../platform/node-host.js';
import { loadDesired } from '../../spec/load.js';
import { parseDuration } from '../../spec/normalise.js';
import { eventSink } from '../../watch/events.js';
import { heapKeeper } from '../../watch/heap.js';
import { startWatch } from '../../watch/loop.js';
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
  const watching = await startWatch(
    host,
    {
      ...(o.file === undefined ? {} : { file: o.file }),
      cwd: io.cwd,
      intervalMs: ms('interval', o.interval, '30s'),
      debounceMs: ms('debounce', o.debounce, '200ms'),
      lockTimeoutMs: ms('lock-timeout', o.lockTimeout, '30s'),
      lockFile: (d) => lockFile(resolvePaths(io.env, d.services.livekit)),
      retry: { ...DEFAULT_RETRY, maxFailures },
      rotateLogs: (d) => rotateLogs(host, d),
      afterCycle: tidy,
    },
    emit,
  );
  await new Promise<void>((resolve) => {
    // Said at once, not after the step under way ends (a health wait can last health.timeout).
    let stopping = false;
    const stop = (signal: StopSignal) => {
      if (stopping) {
        process.off('SIGINT', onInt).off('SIGTERM', onTerm);
        emit({ event: 'watch_stopping', message: SKIPPING });
        watching.skipRollback();
        return;
      }
      stopping = true;
      process.off('SIGHUP', hup);
      emit({ event: 'watch_stopping', message: STOPPING });
      void watching.stop(signal).then(() => {
        process.off('SIGINT', onInt).off('SIGTERM', onTerm);
        resolve();
      });
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    const hup = () => watching.reload();
    process.on('SIGINT', onInt).on('SIGTERM', onTerm).on('SIGHUP', hup);
  });
  return EXIT.ok;
}

async function serviceCommand(io: CliIo, o: WatchFlags): Promise<number> {
  const host = nodeHost(io.env);
  const desired = await loadDesired({ ...(o.file === undefined ? {} : { file: o.file }), cwd: io.cwd, env: io.env });
  const paths = resolvePaths(io.env, desired.services.livekit);
  const { installWatchService, uninstallWatchService } = await import('../../watch/service.js');
  // What the service runs: this installation's own entry point.
  const vmBin = join(packageRoot(), 'bin', 'vm.cjs');
  const msg = o.installService === true ? await installWatchService(host, desired, paths, vmBin, readAsset('templates/watch.service')) : await uninstallWatchService(host, desired, paths, vmBin);
  io.stdout.write(`${msg}\n`);
  return EXIT.ok;
}
