// Where vm keeps things. Pure: derived from the environment (and a service's name) only.

import { join } from 'node:path';
import { UserError } from './errors.js';
import type { Roots, ServiceName, ServicePaths } from './model.js';

type Env = Readonly<Record<string, string | undefined>>;

export function homeOf(env: Env): string {
  const home = env['HOME'];
  if (home === undefined || home === '') throw new Error('HOME is not set');
  return home;
}

export function resolveRoots(env: Env): Roots {
  const home = checked('HOME', homeOf(env));
  const voicemodeHome = checked('VOICEMODE_HOME', nonEmpty(env['VOICEMODE_HOME']) ?? join(home, '.voicemode'));
  const xdgConfigHome = checked('XDG_CONFIG_HOME', nonEmpty(env['XDG_CONFIG_HOME']) ?? join(home, '.config'));
  return { home, voicemodeHome, xdgConfigHome };
}

export function unitNameOf(name: ServiceName): string {
  return `voicemode-${name}.service`;
}

export function launchdLabelOf(name: ServiceName): string {
  return `com.voicemode.${name}`;
}

/** The files every kind of service has, named after the service. */
export function servicePaths(roots: Roots, name: ServiceName): ServicePaths {
  const { home, voicemodeHome: vmHome, xdgConfigHome } = roots;
  const unitDir = join(xdgConfigHome, 'systemd', 'user');
  const unit = unitNameOf(name);
  const label = launchdLabelOf(name);
  const logDir = join(vmHome, 'logs', name);
  return {
    dir: join(vmHome, 'services', name),
    unitName: unit,
    unitFile: join(unitDir, unit),
    wantsLink: join(unitDir, 'default.target.wants', unit),
    launchdLabel: label,
    plistFile: join(home, 'Library', 'LaunchAgents', `${label}.plist`),
    pidFile: join(vmHome, 'run', `${name}.pid`),
    writtenRecord: join(vmHome, 'state', 'written.json'),
    versionRecord: join(vmHome, 'state', 'versions.json'),
    failureRecord: join(vmHome, 'state', `failed-${name}.json`),
    logDir,
    logFile: join(logDir, `${name}.log`),
  };
}

/**
 * These directories end up in unit files, plists, configs and process arguments, where
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
