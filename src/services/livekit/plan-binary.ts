// The binary's step: which version is wanted and how it gets there, per install method. Pure.

import { BREW_FORMULA } from './defaults.js';
import type { Effect } from '../../model.js';
import type { LiveKitDesired, LiveKitObserved, LiveKitPaths } from './model.js';

export interface BinaryPlan {
  /** The version that should run ('' when the file pins none). */
  readonly want: string;
  readonly step?: { readonly reason: string; readonly effect: Effect };
  readonly restartBecause?: string;
  readonly blockers: string[];
  readonly warnings: string[];
}

export function planBinary(d: LiveKitDesired, o: LiveKitObserved, paths: LiveKitPaths): BinaryPlan {
  const blockers: string[] = [];
  const warnings: string[] = [];
  let want = d.version;
  let wantShown = d.version;
  if (d.version === 'latest') {
    if (o.latest === undefined || !o.latest.ok) return { want: '', blockers: [`version: latest could not be resolved: ${o.latest?.ok === false ? o.latest.why : 'not asked'}`], warnings };
    want = o.latest.version;
    wantShown = `${want} (latest)`;
  }
  const bin = o.binary;
  const mismatch = bin.kind === 'present' && want !== '' && bin.version !== want;
  const why = bin.kind === 'absent' ? 'not installed' : bin.kind === 'broken' ? `binary does not run (${bin.detail})` : mismatch ? `version ${bin.version} → ${wantShown}` : undefined;
  // Whatever the reason, a running process still runs the old file: it must restart.
  const restartBecause = why === undefined ? undefined : bin.kind === 'present' ? `binary changed ${bin.version} → ${want}` : 'binary reinstalled';
  const m = d.install;
  switch (m.method) {
    case 'path':
      if (bin.kind === 'absent') blockers.push(`install.path ${m.path} does not exist (vm never installs or changes a path binary)`);
      else if (bin.kind === 'broken') blockers.push(`install.path ${m.path} does not run: ${bin.detail}`);
      else if (mismatch) blockers.push(`install.path ${m.path} is livekit-server ${bin.version}, but version ${want} is declared`);
      return { want, blockers, warnings };
    case 'brew': {
      if (why === undefined) return { want, blockers, warnings };
      const offered = o.brewVersion;
      if (want !== '' && offered !== undefined && (!offered.ok || offered.version !== want)) {
        const what = offered.ok ? `Homebrew offers livekit ${offered.version}` : offered.why;
        blockers.push(`version ${want} is declared, but ${what}; declare that version, or use install.method: release`);
        return { want, blockers, warnings };
      }
      const upgrade = bin.kind !== 'absent';
      return { want, step: { reason: `${why}: brew ${upgrade ? 'upgrade' : 'install'} livekit`, effect: { kind: 'install-brew', formula: BREW_FORMULA, upgrade } }, ...(restartBecause === undefined ? {} : { restartBecause }), blockers, warnings };
    }
    case 'script':
      warnings.push("install.method: script runs LiveKit's official install script, which verifies no checksum; prefer method: release");
      if (why === undefined) return { want, blockers, warnings };
      return {
        want,
        step: { reason: `${why}: LiveKit's install script from ${m.scriptUrl}`, effect: { kind: 'install-script', scriptUrl: m.scriptUrl, version: want, versionsDir: paths.versionsDir, link: paths.binary } },
        ...(restartBecause === undefined ? {} : { restartBecause }),
        blockers,
        warnings,
      };
    case 'release': {
      if (why === undefined) return { want, blockers, warnings };
      const from = m.archive === undefined ? m.baseUrl : `${m.archive} (offline)`;
      const effect: Effect = { kind: 'install-release', version: want, baseUrl: m.baseUrl, ...(m.archive === undefined ? {} : { archive: m.archive }), versionsDir: paths.versionsDir, link: paths.binary };
      return { want, step: { reason: `${why}: livekit-server ${want} from ${from}`, effect }, ...(restartBecause === undefined ? {} : { restartBecause }), blockers, warnings };
    }
  }
}
