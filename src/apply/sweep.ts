// Removes what an interrupted run left behind: temp files of atomic writes (`.NAME.vm-tmp-*`),
// the installer's temps (`*.tmp-*`, `.livekit_…`, `.script-*`) and version directories with no
// binary. Only called while holding the apply lock: then no other vm is writing any of them.
// Only vm's own names are touched, also in shared directories (the systemd unit directory).

import { basename, dirname, join } from 'node:path';
import type { DesiredState, ServicePaths } from '../model.js';
import { resolveRoots } from '../paths.js';
import { kindOf } from '../services/registry.js';
import type { Host } from '../platform/host.js';

const VERSION = /^\d+\.\d+\.\d+$/;

/** Sweeps every declared service's directories. */
export async function sweepAll(host: Host, desired: DesiredState): Promise<number> {
  const roots = resolveRoots(host.env);
  let n = 0;
  for (const d of Object.values(desired.services)) n += await sweepLeftovers(host, kindOf(d).paths(roots, d.name, d));
  return n;
}

export async function sweepLeftovers(host: Host, p: ServicePaths & { readonly binary?: string; readonly versionsDir?: string }): Promise<number> {
  const doomed: string[] = [];
  const scan = async (dir: string, match: (name: string) => boolean) => {
    for (const name of await host.readdir(dir)) if (match(name)) doomed.push(join(dir, name));
  };
  const ours = (file: string) => (name: string) => name.startsWith(`.${basename(file)}.vm-tmp-`);
  const binary = p.binary === undefined ? undefined : basename(p.binary);
  await scan(p.dir, (n) => (n.startsWith('.') && n.includes('.vm-tmp-')) || (binary !== undefined && n.startsWith(`${binary}.tmp-`)));
  await scan(join(p.dir, 'models'), (n) => n.startsWith('.') && n.includes('.vm-tmp-'));
  await scan(dirname(p.unitFile), ours(p.unitFile));
  await scan(dirname(p.plistFile), ours(p.plistFile));
  await scan(dirname(p.writtenRecord), (n) => n.startsWith('.') && (n.includes('.vm-tmp-') || n.endsWith('.tmp')));
  await scan(dirname(p.pidFile), (n) => n.startsWith('.') && n.includes('.vm-tmp-'));
  // In versions/, every hidden entry is an installer temp; a version without its binary is an
  // install that never finished.
  for (const name of p.versionsDir === undefined ? [] : await host.readdir(p.versionsDir)) {
    const path = join(p.versionsDir ?? '', name);
    if (name.startsWith('.')) doomed.push(path);
    else if (VERSION.test(name)) {
      const inside = await host.readdir(path);
      if (!inside.includes('livekit-server')) doomed.push(path);
      else for (const f of inside) if (f.startsWith('livekit-server.tmp-')) doomed.push(join(path, f));
    }
  }
  for (const path of doomed) await host.remove(path);
  return doomed.length;
}
