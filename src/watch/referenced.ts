// The files a desired state was read from or points at: saving any of them re-checks.

import type { DesiredState } from '../model.js';
import { kindOf } from '../services/registry.js';

export function referencedFiles(d: DesiredState): string[] {
  const out = new Set<string>();
  if (d.source.kind === 'file') out.add(d.source.path);
  for (const f of d.inputs ?? []) out.add(f);
  for (const s of Object.values(d.services)) for (const f of kindOf(s).referencedFiles(s)) out.add(f);
  return [...out];
}
