// Where vm keeps things. Pure: derived from the environment and the desired state only.

import { join } from 'node:path';
import { UserError } from './errors.js';
import type { LiveKitDesired, Paths, ServicePaths } from './model.js';

type Env = Readonly<Record<string, string | undefined>>;

export const LIVEKIT_UNIT = 'voicemode-livekit.service';
export const LIVEKIT_LABEL = 'com.voicemode.livekit';

export function homeOf(env: Env): string {
  const home = env['HOME'];
  if (home === undefined || home === '') throw new Error('HOME is not set');
  return home;
}

export function resolvePaths(env: Env, livekit?: LiveKitDesired): Paths {
  const home = checked('HOME', homeOf(env));
  const voicemodeHome = checked('VOICEMODE_HOME', nonEmpty(env['VOICEMODE_HOME']) ?? join(home, '.voicemode'));
  const xdgConfigHome = checked('XDG_CONFIG_HOME', nonEmpty(env['XDG_CONFIG_HOME']) ?? join(home, '.config'));
  return { home, voicemodeHome, xdgConfigHome, livekit: livekitPaths(home, voicemodeHome, xdgConfigHome, livekit) };
}

function livekitPaths(home: string, vmHome: string, xdgConfigHome: string, desired?: LiveKitDesired): ServicePaths {
  const dir = join(vmHome, 'services', 'livekit');
  const logDir = join(vmHome, 'logs', 'livekit');
  const unitDir = join(xdgConfigHome, 'systemd', 'user');
  return {
    dir,
    versionsDir: join(dir, 'versions'),
    // brew's binary is only known once `brew --prefix` has answered: observe fills it in.
    binary: desired?.install.method === 'path' ? desired.install.path : join(dir, 'livekit-server'),
    config: join(dir, 'livekit.yaml'),
    keyFile: join(dir, 'keys.yaml'),
    unitName: LIVEKIT_UNIT,
    unitFile: join(unitDir, LIVEKIT_UNIT),
    wantsLink: join(unitDir, 'default.target.wants', LIVEKIT_UNIT),
    launchdLabel: LIVEKIT_LABEL,
    plistFile: join(home, 'Library', 'LaunchAgents', `${LIVEKIT_LABEL}.plist`),
    pidFile: join(vmHome, 'run', 'livekit.pid'),
    writtenRecord: join(vmHome, 'state', 'written.json'),
    versionRecord: join(vmHome, 'state', 'versions.json'),
    failureRecord: join(vmHome, 'state', 'failed.json'),
    logDir,
    logFile: join(logDir, 'livekit.log'),
  };
}

/**
 * These directories end up in unit files, plists, LiveKit's config and process arguments, where
 * `$` (variable expansion), `%` (systemd specifiers) and control characters mean something.
 */
function checked(name: string, dir: string): string {
  // eslint-disable-next-line no-control-regex
  if (!dir.startsWith('/') || /[$%\u0000-\u001f\u007f]/.test(dir)) {
    throw new UserError('USAGE', `${name}=${JSON.stringify(dir)} cannot be used: it must be an absolute path without $, % or control characters`);
  }
  return dir;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
