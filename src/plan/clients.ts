// Client config files (`clients:` in the file), planned after every service. Pure.
//
// Why a planner of its own rather than a part of LiveKit's plan: the env file's block carries
// values of several services (LiveKit's URL and key, whisper's and kokoro's endpoints), the files
// are the user's rather than one service's, and a fragment must go when the service that wanted
// it is absent or no longer declared, when its kind is not asked at all. Each kind says what it
// wants (ServiceKind.clientFragments); this planner compares, and removes what vm's record says
// it wrote that nothing wants any more. It runs after the services, so apply has written LiveKit's
// key file (with the same secret: the plan context memoises it) before the files that repeat it.

import { join } from 'node:path';
import type { DesiredState, Roots, ServiceDesired } from '../model.js';
import type { ServicePlan, ServiceSnapshot } from '../services/contract.js';
import { kindOf } from '../services/registry.js';
import type { Ownership } from '../resources/managed-file.js';
import { fragmentKey, locatorOf, planFragment, recordedFragments, type FragmentFiles } from '../resources/managed-fragment.js';
import type { EnvVar } from '../resources/marked-block.js';
import type { PlanContext } from './context.js';

/** The name client steps are shown under (`vm plan`, `--json`). */
export const CLIENTS = 'clients';

const ABSENT_FILE = { file: { exists: false }, dirMode: undefined } as const;

export function planClients(desired: DesiredState, services: readonly ServiceSnapshot[], observed: FragmentFiles, ctx: PlanContext, roots: Roots): ServicePlan {
  const out: ServicePlan = { steps: [], blockers: [], warnings: [], notes: [] };
  const clients = desired.clients ?? {};
  const live = services.filter((s) => s.desired.state !== 'absent');
  const providers = providerLists(live.map((s) => s.desired));
  const wants = live.flatMap((s) => kindOf(s.desired).clientFragments?.(s.desired, s.observed, ctx, clients, providers) ?? []);
  if (wants.length === 0 && recordedFragments(observed.written).length === 0) return out;
  const own: Ownership = {
    written: observed.written,
    salt: observed.written.salt ?? ctx.freshSalt(),
    stateFile: join(roots.voicemodeHome, 'state', 'written.json'),
    hmac: ctx.hmac,
    force: ctx.force,
  };
  const wanted = new Set<string>();
  for (const w of wants) {
    const at = locatorOf(w.edit);
    wanted.add(fragmentKey(w.path, at));
    planFragment(out, { service: CLIENTS, path: w.path, at, observed: observed.files[w.path] ?? ABSENT_FILE, want: w, own });
  }
  for (const r of recordedFragments(observed.written)) {
    if (wanted.has(r.key)) continue;
    const stillNamed = r.at.format === 'marked-block' ? clients.envFile === r.path : clients.lkProject?.configFile === r.path && clients.lkProject.name === r.at.name;
    const why = stillNamed ? 'no declared service provides it any more (state: absent, or not in the file)' : "the file's clients: no longer names it";
    planFragment(out, { service: CLIENTS, path: r.path, at: r.at, observed: observed.files[r.path] ?? ABSENT_FILE, want: undefined, why, own });
  }
  return out;
}

/**
 * Voice Mode's provider lists from the declared services' endpoints, in the file's order
 * (VOICEMODE_STT_BASE_URLS, VOICEMODE_TTS_BASE_URLS: comma-separated, highest priority first, as
 * src/ops/discover.ts makes them). Health plays no part: the block must not change when a
 * service restarts.
 */
export function providerLists(services: readonly ServiceDesired[]): EnvVar[] {
  const urls = (role: 'stt' | 'tts') => services.flatMap((d) => {
    const ep = kindOf(d).endpoint(d);
    return ep?.role === role ? [ep.url] : [];
  });
  const out: EnvVar[] = [];
  for (const [role, key] of [['stt', 'VOICEMODE_STT_BASE_URLS'], ['tts', 'VOICEMODE_TTS_BASE_URLS']] as const) {
    const list = [...new Set(urls(role))];
    if (list.length > 0) out.push({ key, value: list.join(','), sensitive: false });
  }
  return out;
}
