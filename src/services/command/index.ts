// `kind: command`: any local HTTP service vm runs and health-checks (a llama-server, …). The
// whisper and kokoro kinds are presets of it: they differ only in how the file's fields become
// the command line (see ../whisper, ../kokoro), so everything below is shared.

import type { HttpObserved, HttpServiceDesired, KindName } from '../../model.js';
import type { ServiceKind } from '../contract.js';
import { observeHttp } from './observe.js';
import { httpPaths, type HttpPaths } from './paths.js';
import { planHttp } from './plan.js';
import { httpRollback } from './rollback.js';
import { httpStatus } from './status.js';

export function httpKind(kind: KindName): ServiceKind<HttpServiceDesired, HttpObserved, HttpPaths> {
  return {
    kind,
    title: (name) => name,
    paths: (roots, name) => httpPaths(roots, name),
    observe: (host, d, paths, facts) => observeHttp(host, d, paths, facts),
    plan: planHttp,
    rollback: httpRollback,
    restores: 'its previous unit',
    referencedFiles(d) {
      const files = d.program.startsWith('/') && d.kind !== 'kokoro' ? [d.program] : [];
      if (d.model?.kind === 'path') files.push(d.model.path);
      return files;
    },
    leftovers: (p) => [p.unitFile, p.plistFile, p.modelsDir],
    status: httpStatus,
    };
}

export const commandKind = httpKind('command');
