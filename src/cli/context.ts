// What every command starts from: the desired state (or a located error) and the host.

import type { DesiredState } from '../model.js';
import { nodeHost } from '../platform/node-host.js';
import type { Host } from '../platform/host.js';
import { hostnameOf } from '../spec/hosts.js';
import { loadDesired } from '../spec/load.js';
import type { CliIo } from './io.js';

export async function loadContext(io: CliIo, file: string | undefined): Promise<{ desired: DesiredState; host: Host }> {
  const desired = await loadDesired({ ...(file === undefined ? {} : { file }), cwd: io.cwd, env: io.env, hostname: hostnameOf(io.env) });
  return { desired, host: nodeHost(io.env) };
}

export function describeSource(d: DesiredState): string {
  return d.source.kind === 'file' ? d.source.path : 'built-in default (no voicemode.services.yaml found)';
}
