// What runs a supervised HTTP service, for each supervisor: one ServiceSpec. Pure.

import type { HealthCheck, ServiceSpec, SupervisorKind } from '../../model.js';
import type { HttpServiceDesired } from './model.js';
import { renderPlist } from '../../resources/plist.js';
import { renderUnit } from '../../resources/unit.js';
import type { SupervisedInput } from '../../resources/supervised.js';
import type { HttpPaths } from './paths.js';

export function httpServiceSpec(d: HttpServiceDesired, paths: HttpPaths, kind: SupervisorKind): ServiceSpec {
  const [binary = '', ...args] = d.command;
  return {
    name: d.name,
    title: d.name,
    label: kind === 'systemd' ? paths.unitName : paths.launchdLabel,
    binary,
    args,
    logFile: paths.logFile,
    definitionFile: kind === 'systemd' ? paths.unitFile : kind === 'launchd' ? paths.plistFile : undefined,
    pidFile: paths.pidFile,
    autostart: d.autostart,
    env: d.env,
    ...(d.workingDir === undefined ? {} : { workingDir: d.workingDir }),
  };
}

export function renderHttpDefinition(kind: SupervisorKind, svc: ServiceSpec, template: string): string | undefined {
  switch (kind) {
    case 'systemd':
      return renderUnit(template, svc);
    case 'launchd':
      return renderPlist(svc);
    case 'process':
      return undefined;
  }
}

/** Any 2xx is healthy; 503 is still starting (whisper-server answers it while it loads its model). */
export const HTTP_HEALTH: HealthCheck = { protocol: 'http', starting: 503 };

/** The wait for health after a start or restart: the plan's, and `vm restart`'s. */
export function httpHealthWait(d: Pick<HttpServiceDesired, 'port' | 'bindAddresses' | 'health'>): SupervisedInput['health'] {
  return { url: httpHealthUrl(d), check: HTTP_HEALTH, timeoutMs: d.health.timeoutMs };
}

/** Where to ask for health: loopback when the service listens there, else its first address. */
export function httpHealthUrl(d: Pick<HttpServiceDesired, 'port' | 'bindAddresses' | 'health'>): string {
  const addrs = d.bindAddresses;
  const loopbackOrAny = addrs.length === 0 || addrs.some((a) => a === '0.0.0.0' || a === '::' || a.startsWith('127.'));
  const host = loopbackOrAny ? '127.0.0.1' : addrs.includes('::1') ? '[::1]' : (addrs[0] ?? '127.0.0.1').includes(':') ? `[${addrs[0] ?? ''}]` : (addrs[0] ?? '127.0.0.1');
  return `http://${host}:${d.port}${d.health.path}`;
}
