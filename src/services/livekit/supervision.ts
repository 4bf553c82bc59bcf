// What runs LiveKit, for each supervisor, from one ServiceSpec: the same binary, arguments and
// log file whether systemd, launchd or vm's own process supervisor runs it. Pure.

import type { ServiceSpec, SupervisorKind } from '../../model.js';
import type { LiveKitDesired, LiveKitPaths } from './model.js';
import { renderPlist } from '../../resources/plist.js';
import { renderUnit } from '../../resources/unit.js';

export function serviceSpec(d: Pick<LiveKitDesired, 'autostart'>, paths: LiveKitPaths, kind: SupervisorKind, binary: string): ServiceSpec {
  return {
    name: 'livekit',
    title: 'LiveKit',
    label: kind === 'systemd' ? paths.unitName : paths.launchdLabel,
    binary,
    // Only the config path: keys live in the key file it names, never in arguments.
    args: ['--config', paths.config],
    logFile: paths.logFile,
    definitionFile: kind === 'systemd' ? paths.unitFile : kind === 'launchd' ? paths.plistFile : undefined,
    pidFile: paths.pidFile,
    autostart: d.autostart,
  };
}

/** The unit or plist text; undefined for the process supervisor, which has no definition file. */
export function renderDefinition(kind: SupervisorKind, svc: ServiceSpec, unitTemplate: string): string | undefined {
  switch (kind) {
    case 'systemd':
      return renderUnit(unitTemplate, svc);
    case 'launchd':
      return renderPlist(svc);
    case 'process':
      return undefined;
  }
}
