// What answers on this machine: the declared services (managed by vm) and the well-known local
// ports of the kinds vm knows (LiveKit 7880, whisper 2022, kokoro 8880), whoever runs them; and
// the provider lists Voice Mode reads, VOICEMODE_STT_BASE_URLS and VOICEMODE_TTS_BASE_URLS
// (comma-separated, in priority order, as Voice Mode splits them): healthy managed endpoints
// first, then healthy unmanaged local ones, then whatever the environment already lists.
// Read-only: it observes and asks, never changes anything. The data is what every front end shows.

import type { DesiredState, KindName } from '../model.js';
import type { Host } from '../platform/host.js';
import { snapshot } from '../reconcile.js';
import type { Role } from '../services/contract.js';
import { kindNamed, kindOf, PRESET_NAMES } from '../services/registry.js';

export interface Discovered {
  readonly name: string;
  readonly kind: KindName;
  readonly role: Role | undefined;
  readonly url: string | undefined;
  readonly healthy: boolean;
  readonly managed: boolean;
  /** One line for people: "managed by vm", "unmanaged: something answers like kokoro on 8880". */
  readonly note: string;
}

export interface Discovery {
  readonly services: readonly Discovered[];
  readonly env: { readonly VOICEMODE_STT_BASE_URLS: string; readonly VOICEMODE_TTS_BASE_URLS: string };
}

const PROBE_TIMEOUT_MS = 1_000;

export async function discover(host: Host, desired: DesiredState): Promise<Discovery> {
  const snap = await snapshot(host, desired);
  const managed: Discovered[] = snap.services.map((s) => {
    const kind = kindOf(s.desired);
    const ep = s.desired.state === 'absent' ? undefined : kind.endpoint(s.desired);
    const healthy = s.observed.health.kind === 'healthy';
    return { name: s.name, kind: s.desired.kind, role: ep?.role, url: ep?.url, healthy, managed: true, note: `managed by vm (state: ${s.desired.state})` };
  });
  // A well-known port is probed unless a declared service already listens there.
  const taken = new Set(Object.values(desired.services).filter((d) => d.state !== 'absent').map((d) => d.port));
  const probes = PRESET_NAMES.flatMap((k) => {
    const wk = kindNamed(k).wellKnown;
    return wk === undefined || taken.has(wk.port) ? [] : [{ kind: k, wk }];
  });
  const unmanaged = (
    await Promise.all(
      probes.map(async ({ kind, wk }): Promise<Discovered | undefined> => {
        const r = await host.httpGet(`http://127.0.0.1:${wk.port}${wk.path}`, PROBE_TIMEOUT_MS);
        if (!r.ok) return undefined;
        const like = wk.recognise(r);
        const url = wk.clientUrl(wk.port);
        const note = like ? `unmanaged: something answers like ${kind} on ${wk.port}` : `unmanaged: something answers on ${wk.port} (GET ${wk.path} → ${r.status}), but not like ${kind}`;
        return { name: kind, kind, role: like ? wk.role : undefined, url: like ? url : undefined, healthy: like && r.status >= 200 && r.status < 300, managed: false, note };
      }),
    )
  ).filter((d): d is Discovered => d !== undefined);
  const services = [...managed, ...unmanaged];
  const list = (role: Role, envName: string): string => {
    const fromEnv = (host.env[envName] ?? '').split(',').map((u) => u.trim()).filter((u) => u !== '');
    const ours = services.filter((s) => s.role === role && s.healthy && s.url !== undefined).map((s) => s.url as string);
    return [...new Set([...ours, ...fromEnv])].join(',');
  };
  return { services, env: { VOICEMODE_STT_BASE_URLS: list('stt', 'VOICEMODE_STT_BASE_URLS'), VOICEMODE_TTS_BASE_URLS: list('tts', 'VOICEMODE_TTS_BASE_URLS') } };
}
