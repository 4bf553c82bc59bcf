// The files a desired state was read from or points at: saving any of them re-checks.

import type { DesiredState } from '../model.js';

export function referencedFiles(d: DesiredState): string[] {
  const out = new Set<string>();
  if (d.source.kind === 'file') out.add(d.source.path);
  for (const f of d.inputs ?? []) out.add(f);
  const install = d.services.livekit?.install;
  if (install?.method === 'path') out.add(install.path);
  if (install?.method === 'release' && install.archive !== undefined) out.add(install.archive);
  return [...out];
}
