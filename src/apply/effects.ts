// Carries out one step's effect. Each is idempotent: running it twice leaves the same result.

import type { Effect } from '../model.js';
import type { Host } from '../platform/host.js';
import { systemctlVerb } from '../platform/systemd.js';
import { UserError } from '../errors.js';
import { waitHealthy } from './wait-healthy.js';

export interface EffectIo {
  /** Download progress, shown on a TTY only. */
  readonly onProgress?: (label: string, received: number, total: number | undefined) => void;
}

export async function runEffect(host: Host, effect: Effect, io: EffectIo = {}): Promise<void> {
  switch (effect.kind) {
    case 'install-release': {
      // Loaded only when an install runs: undici and tar cost ~110 ms at import, and `vm plan`
      // must not pay for them.
      const { installRelease } = await import('../platform/release/install.js');
      await installRelease({
        version: effect.version,
        baseUrl: effect.baseUrl,
        arch: host.arch,
        versionsDir: effect.versionsDir,
        link: effect.link,
        ...(io.onProgress === undefined ? {} : { onProgress: (r: number, t: number | undefined) => io.onProgress?.(`livekit-server ${effect.version}`, r, t) }),
      });
      return;
    }
    case 'write-file':
      await host.writeFileAtomic(effect.path, effect.content, effect.mode, effect.dirMode);
      return;
    case 'mkdir':
      await host.mkdirp(effect.path, effect.mode);
      return;
    case 'systemctl': {
      // A unit that hit its start limit refuses a manual start until its failure is reset.
      if (effect.verb === 'start' || effect.verb === 'restart') await systemctlVerb(host, 'reset-failed', effect.unit);
      const r = await systemctlVerb(host, effect.verb, effect.verb === 'daemon-reload' ? undefined : effect.unit);
      if (r.code !== 0) {
        const msg = (r.stderr.trim() || r.error || `exit ${r.code}`).split('\n')[0];
        throw new UserError('STEP_FAILED', `systemctl --user ${effect.verb} failed: ${msg}`);
      }
      return;
    }
    case 'wait-healthy': {
      const w = await waitHealthy(host, effect.url, effect.unit, effect.timeoutMs);
      if (!w.ok) throw new UserError('UNHEALTHY', w.why);
      return;
    }
  }
}
