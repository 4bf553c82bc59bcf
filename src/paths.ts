// Where vm keeps things. Pure: derived from the environment and the desired state only.

import { join } from 'node:path';
import type { LiveKitDesired, Paths, ServicePaths } from './model.js';

type Env = Readonly<Record<string, string | undefined>>;

export function homeOf(env: Env): string {
  const home = env['HOME'];
  if (home === undefined || home === '') throw new Error('HOME is not set');
  return home;
}

export function resolvePaths(env: Env, livekit?: LiveKitDesired): Paths {
  const home = homeOf(env);
  const voicemodeHome = nonEmpty(env['VOICEMODE_HOME']) ?? join(home, '.voicemode');
  const xdgConfigHome = nonEmpty(env['XDG_CONFIG_HOME']) ?? join(home, '.config');
  return { home, voicemodeHome, xdgConfigHome, livekit: livekitPaths(voicemodeHome, xdgConfigHome, livekit) };
}

function livekitPaths(vmHome: string, xdgConfigHome: string, desired?: LiveKitDesired): ServicePaths {
  const dir = join(vmHome, 'services', 'livekit');
  const managedBinary = join(dir, 'livekit-server');
  const logDir = join(vmHome, 'logs', 'livekit');
  return {
    dir,
    versionsDir: join(dir, 'versions'),
    binary: desired?.install.method === 'path' ? desired.install.path : managedBinary,
    config: join(dir, 'livekit.yaml'),
    keyFile: join(dir, 'keys.yaml'),
    unitName: 'voicemode-livekit.service',
    unitFile: join(xdgConfigHome, 'systemd', 'user', 'voicemode-livekit.service'),
    wantsLink: join(xdgConfigHome, 'systemd', 'user', 'default.target.wants', 'voicemode-livekit.service'),
    logDir,
    logFile: join(logDir, 'livekit.log'),
  };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
