// What vm writes for LiveKit, rendered from the desired state. Pure.
//
// livekit.yaml uses only keys livekit-server accepts: it parses its config strictly and
// (FACTS.md) an unknown key makes it print an error and exit 0.

import { stringify } from 'yaml';
import type { LiveKitDesired, ServicePaths } from '../../model.js';
import { execArg, pathValue } from './systemd-escape.js';

const MANAGED = '# Managed by vm (Voice Mode). `vm apply` rewrites this file: change voicemode.services.yaml instead.\n';

export function renderConfig(d: LiveKitDesired, paths: ServicePaths): string {
  const config = {
    port: d.port,
    bind_addresses: [...d.bindAddresses],
    rtc: {
      port_range_start: d.rtc.portRangeStart,
      port_range_end: d.rtc.portRangeEnd,
      tcp_port: d.rtc.tcpPort,
      use_external_ip: d.rtc.useExternalIp,
    },
    room: { auto_create: d.room.autoCreate, empty_timeout: d.room.emptyTimeout },
    logging: { level: d.logging.level },
    // Keys stay out of this file (and out of the unit and process arguments): only the key
    // file, mode 0600, holds secrets. LiveKit refuses a key file readable by others.
    key_file: paths.keyFile,
  };
  return MANAGED + stringify(config);
}

/** The key file LiveKit reads: a YAML map api_key → secret. */
export function renderKeyFile(entries: Readonly<Record<string, string>>): string {
  return (
    '# Managed by vm (Voice Mode). LiveKit API keys (api_key: secret). Keep this file private (0600).\n' +
    stringify({ ...entries })
  );
}

/** The same file with every secret replaced, for diffs and plan output. */
export function redactKeyFile(entries: Readonly<Record<string, string>>): string {
  return renderKeyFile(Object.fromEntries(Object.keys(entries).map((k) => [k, '(sensitive)'])));
}

export function renderUnit(template: string, binary: string, paths: ServicePaths): string {
  const values: Record<string, string> = {
    exec_start: `${execArg(binary)} --config ${execArg(paths.config)}`,
    log_file: pathValue(paths.logFile),
  };
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`unit template has an unknown placeholder {{${name}}}`);
    return v;
  });
}

/** Where to ask for health: loopback when LiveKit listens there, else its first address. */
export function healthUrl(d: LiveKitDesired): string {
  const addrs = d.bindAddresses;
  const loopbackOrAny = addrs.length === 0 || addrs.some((a) => a === '0.0.0.0' || a === '::' || a.startsWith('127.'));
  if (loopbackOrAny) return `http://127.0.0.1:${d.port}/`;
  if (addrs.includes('::1')) return `http://[::1]:${d.port}/`;
  const first = addrs[0] ?? '127.0.0.1';
  return first.includes(':') ? `http://[${first}]:${d.port}/` : `http://${first}:${d.port}/`;
}
