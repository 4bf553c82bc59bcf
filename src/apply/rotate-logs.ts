// Log rotation, checked on each apply and each watch cycle: each service's log is rotated when it
// passes its logging.max_size (VOICEMODE_LOG_MAX_BYTES overrides, for tests), without restarting
// it. A rotation that fails is reported, never fatal: the services matter more than the log.

import type { DesiredState } from '../model.js';
import { resolveRoots } from '../paths.js';
import type { Host } from '../platform/host.js';
import { kindOf } from '../services/registry.js';

/** One line for the user per log that was rotated (or failed to be). */
export async function rotateLogs(host: Host, desired: DesiredState): Promise<string[]> {
  const services = Object.values(desired.services).filter((d) => d.state !== 'absent');
  if (services.length === 0) return [];
  const { rotateIfNeeded, logMaxBytes } = await import('../platform/log-rotate.js');
  const roots = resolveRoots(host.env);
  const out: string[] = [];
  for (const d of services) {
    const file = kindOf(d).paths(roots, d.name, d).logFile;
    try {
      const r = await rotateIfNeeded(host, file, logMaxBytes(host.env, d.logging.maxBytes));
      if (r.rotated) out.push(`rotated ${file} at ${r.bytes} bytes (kept as ${file}.1)`);
    } catch (e) {
      out.push(`warning: could not rotate ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return out;
}
