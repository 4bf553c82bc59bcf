// Log rotation, checked on each apply and each watch cycle: LiveKit's log is rotated when it
// passes logging.max_size (VOICEMODE_LOG_MAX_BYTES overrides, for tests), without restarting it.
// A rotation that fails is reported, never fatal: the services matter more than the log.

import type { DesiredState } from '../model.js';
import { resolvePaths } from '../paths.js';
import type { Host } from '../platform/host.js';

/** A line for the user when something happened (rotated, or failed), else undefined. */
export async function rotateLogs(host: Host, desired: DesiredState): Promise<string | undefined> {
  const lk = desired.services.livekit;
  if (lk === undefined) return undefined;
  const { rotateIfNeeded, logMaxBytes } = await import('../platform/log-rotate.js');
  const file = resolvePaths(host.env, lk).livekit.logFile;
  try {
    const r = await rotateIfNeeded(host, file, logMaxBytes(host.env, lk.logging.maxBytes));
    return r.rotated ? `rotated ${file} at ${r.bytes} bytes (kept as ${file}.1)` : undefined;
  } catch (e) {
    return `warning: could not rotate ${file}: ${e instanceof Error ? e.message : String(e)}`;
  }
}
