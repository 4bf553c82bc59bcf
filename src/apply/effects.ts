// Carries out one step's effect. Each is idempotent: running it twice leaves the same result.

import type { Effect } from '../model.js';
import type { Host } from '../platform/host.js';
import { supervisorFor } from '../platform/supervisor.js';
import { UserError } from '../errors.js';
import { waitHealthy } from './wait-healthy.js';
import { writeManaged } from './write-managed.js';

export interface EffectIo {
  /** Download progress, shown on a TTY only. */
  readonly onProgress?: (label: string, received: number, total: number | undefined) => void;
  /** Cuts a wait-healthy short (an interrupted apply); every other effect runs to its end. */
  readonly signal?: AbortSignal;
}

/** A wait-healthy cut short by `EffectIo.signal`. */
export class WaitInterruptedError extends UserError {
  constructor(why: string) {
    super('UNHEALTHY', why);
  }
}

export async function runEffect(host: Host, effect: Effect, io: EffectIo = {}): Promise<void> {
  switch (effect.kind) {
    case 'install-release': {
      // Loaded only when an install runs: undici and tar cost ~110 ms at import, and `vm plan`
      // must not pay for them.
      const progress = io.onProgress === undefined ? {} : { onProgress: (r: number, t: number | undefined) => io.onProgress?.(`livekit-server ${effect.version}`, r, t) };
      const common = { version: effect.version, arch: host.arch, platform: host.platform, versionsDir: effect.versionsDir, link: effect.link };
      if (effect.archive !== undefined) {
        const { installArchive } = await import('../platform/release/install.js');
        await installArchive({ ...common, archive: effect.archive });
      } else {
        const { installRelease } = await import('../platform/release/install.js');
        await installRelease({ ...common, baseUrl: effect.baseUrl, ...progress });
      }
      return;
    }
    case 'install-brew': {
      const { brewInstall } = await import('../platform/brew.js');
      await brewInstall(host, effect.formula, effect.upgrade);
      return;
    }
    case 'install-script': {
      const { installWithScript } = await import('../platform/release/script.js');
      await installWithScript(host, effect);
      return;
    }
    case 'download': {
      const { downloadVerified } = await import('../resources/verified-download.js');
      await downloadVerified({ url: effect.url, sha256: effect.sha256, dest: effect.path, ...(io.onProgress === undefined ? {} : { onProgress: (r: number, t: number | undefined) => io.onProgress?.(effect.label, r, t) }) });
      return;
    }
    case 'switch-link': {
      const { switchLink } = await import('../platform/release/install.js');
      await switchLink(effect.link, effect.target);
      return;
    }
    case 'write-file':
      await writeManaged(host, effect);
      return;
    case 'write-fragment': {
      const { writeFragment } = await import('./write-fragment.js');
      await writeFragment(host, effect);
      return;
    }
    case 'mkdir':
      await host.mkdirp(effect.path, effect.mode);
      return;
    case 'remove':
      await host.remove(effect.path);
      return;
    case 'supervise':
      await (await supervisorFor(effect.supervisor)).run(host, effect.service, effect.verb);
      return;
    case 'tailscale-serve': {
      const { runServe } = await import('./tailscale-serve.js');
      await runServe(host, effect);
      return;
    }
    case 'wait-healthy': {
      const w = await waitHealthy(host, effect.url, effect.check, effect.supervisor, effect.service, effect.timeoutMs, io.signal, effect.resp);
      if (!w.ok) throw w.interrupted === true ? new WaitInterruptedError(w.why) : new UserError('UNHEALTHY', w.why);
      return;
    }
  }
}
