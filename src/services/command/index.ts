// `kind: command`: any local HTTP service vm runs and health-checks (a llama-server, …). The
// whisper and kokoro kinds are presets of it: they differ only in how the file's fields become
// the command line (see ../whisper, ../kokoro), so everything below is shared.

import type { HttpKindName, HttpObserved, HttpServiceDesired } from './model.js';
import type { Role, ServiceKind, WellKnown } from '../contract.js';
import { COMMAND, normaliseHttp, type HttpNormalise, type WrittenHttp } from './normalise.js';
import { observeHttp } from './observe.js';
import { httpPaths, type HttpPaths } from './paths.js';
import { planHttp } from './plan.js';
import { httpRollback } from './rollback.js';
import { restartAndWait } from '../../resources/supervised.js';
import { httpHealthUrl, httpHealthWait, httpServiceSpec } from './spec.js';
import { httpStatus } from './status.js';
import { httpRules } from './rules.js';

export interface HttpPreset {
  /** Its defaults, and how its fields become the command line. */
  readonly normalise: HttpNormalise;
  /** The provider list Voice Mode reads this kind from (stt: whisper, tts: kokoro). */
  readonly role?: Role;
  readonly wellKnown?: WellKnown;
  /**
   * Whether a change to the program file re-checks (vm watch): not for kokoro's, the uvicorn
   * of the checkout's own virtual environment, which its package tools rewrite.
   */
  readonly watchProgram?: boolean;
}

export function httpKind(kind: HttpKindName, preset: HttpPreset): ServiceKind<HttpServiceDesired, HttpObserved, HttpPaths> {
  return {
    kind,
    defaultPort: preset.normalise.defaults.port,
    rules: (entry, ctx) => httpRules(kind, entry, ctx),
    normalise: (name, written, ctx) => normaliseHttp(name, kind, preset.normalise, written as WrittenHttp, ctx),
    title: (name) => name,
    paths: (roots, name) => httpPaths(roots, name),
    observe: (host, d, paths, facts) => observeHttp(host, d, paths, facts),
    plan: planHttp,
    rollback: httpRollback,
    restores: 'its previous unit',
    referencedFiles(d) {
      const files = d.program.startsWith('/') && preset.watchProgram !== false ? [d.program] : [];
      if (d.model?.kind === 'path') files.push(d.model.path);
      return files;
    },
    leftovers: (p) => [p.unitFile, p.plistFile, p.modelsDir],
    endpoint: (d) => (preset.role === undefined ? undefined : { role: preset.role, url: openAiBase(d) }),
    ...(preset.wellKnown === undefined ? {} : { wellKnown: preset.wellKnown }),
    restartEffects({ desired: d, observed: o, paths }) {
      const sup = o.supervisor;
      if (sup.kind === 'unavailable') return [];
      return restartAndWait(sup.kind, httpServiceSpec(d, paths, sup.kind), httpHealthWait(d));
    },
    status: httpStatus,
  };
}

export const commandKind = httpKind('command', { normalise: COMMAND });

/** The OpenAI-style base URL Voice Mode's provider lists hold: `http://127.0.0.1:2022/v1`. */
export function openAiBase(d: HttpServiceDesired): string {
  return `${new URL(httpHealthUrl(d)).origin}/v1`;
}
