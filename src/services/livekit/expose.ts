// LiveKit on the tailnet (`expose:` in the file). Pure: what the tailnet observation means for
// the rendered config (which address render.ts adds), the plan's warnings, and the `tailscale
// serve` endpoint steps. The record of the endpoint vm made is how it removes that one and
// nothing else.

import type { FileState, ServeRecord, Step, TailnetState } from '../../model.js';
import type { LiveKitDesired, LiveKitObserved, LiveKitPaths } from './model.js';
import { tailnetHost } from '../../facts/tailnet.js';
import { healthUrl } from './render.js';

type Running = Extract<TailnetState, { kind: 'running' }>;

/** The tailnet address LiveKit also binds and advertises, or undefined (loopback-only config). */
export function tailnetAddress(d: LiveKitDesired, tailnet: TailnetState | undefined): string | undefined {
  if (d.expose?.tailscale !== true || tailnet?.kind !== 'running') return undefined;
  return tailnet.ipv4;
}

/** The one-line warning when the file wants the tailnet and tailscale is not there. */
export function tailnetWarnings(d: LiveKitDesired, tailnet: TailnetState | undefined): string[] {
  if (d.expose === undefined || d.state === 'absent' || tailnet === undefined || tailnet.kind === 'running') return [];
  return [`not exposed on the tailnet: ${tailnet.why} — ${tailnet.fix}; LiveKit keeps serving locally`];
}

/** Where tailscale serve forwards: LiveKit's own HTTP port where vm asks it for health. */
export function serveTarget(d: LiveKitDesired): string {
  return new URL(healthUrl(d)).host;
}

export function parseServeRecord(f: FileState): ServeRecord | undefined {
  if (!f.exists) return undefined;
  try {
    const r = JSON.parse(f.content) as { port?: unknown; target?: unknown };
    return typeof r.port === 'number' && typeof r.target === 'string' ? { port: r.port, target: r.target } : undefined;
  } catch {
    return undefined;
  }
}

/** The remote URL a client on another device uses; undefined when LiveKit is not on the tailnet. */
export function remoteUrl(d: LiveKitDesired, tailnet: TailnetState | undefined): { ok: true; url: string } | { ok: false; why: string } {
  if (d.expose === undefined) return { ok: false, why: 'LiveKit is not exposed on the tailnet (add expose: { tailscale: true } under services.livekit)' };
  if (tailnet === undefined) return { ok: false, why: 'the tailnet was not observed' };
  if (tailnet.kind !== 'running') return { ok: false, why: `not exposed on the tailnet: ${tailnet.why} — ${tailnet.fix}` };
  // https: tailscale's certificate names the MagicDNS name, so wss:// needs it (no IP form).
  if (d.expose.https && tailnet.dnsName !== undefined) return { ok: true, url: `wss://${tailnet.dnsName}:${d.expose.httpsPort}` };
  if (!d.expose.tailscale) return { ok: false, why: 'expose.https needs MagicDNS (tailscale serve certificates name the MagicDNS name); turn MagicDNS on, or set expose.tailscale: true' };
  return { ok: true, url: `ws://${tailnetHost(tailnet)}:${d.port}` };
}

/** The `tailscale serve` steps and warnings: create the endpoint vm wants, remove the one it made. */
export function planServe(d: LiveKitDesired, o: LiveKitObserved, paths: LiveKitPaths): { steps: Step[]; warnings: string[] } {
  const steps: Step[] = [];
  const warnings: string[] = [];
  const want = d.state !== 'absent' && d.expose?.https === true ? { port: d.expose.httpsPort, target: serveTarget(d) } : undefined;
  const made = o.serveRecord;
  const t = o.tailnet;
  if (want === undefined && made === undefined) return { steps, warnings };
  if (t?.kind !== 'running') {
    // tailnetWarnings says why; an endpoint vm made stays until tailscale can be asked.
    if (made !== undefined && want === undefined) warnings.push(`the tailscale serve endpoint vm made on port ${made.port} is removed once tailscale is running`);
    return { steps, warnings };
  }
  const serve = o.serve;
  if (serve === undefined || !serve.ok) {
    warnings.push(`cannot read tailscale serve: ${serve?.ok === false ? serve.why : 'not asked'}`);
    return { steps, warnings };
  }
  const step = (action: 'create' | 'remove', reason: string, verb: 'on' | 'off', r: ServeRecord): void => {
    steps.push({ service: d.name, resource: 'expose', action, reason, effect: { kind: 'tailscale-serve', binary: t.binary, verb, port: r.port, target: r.target, record: paths.serveRecord } });
  };
  const isOurs = (r: ServeRecord): boolean => {
    const h = serve.tcp[String(r.port)];
    return h !== undefined && !h.web && h.forward === r.target && h.terminateTls !== undefined;
  };
  if (made !== undefined && (want === undefined || want.port !== made.port || want.target !== made.target)) {
    if (isOurs(made)) step('remove', `${want === undefined ? 'expose.https is off' : 'the endpoint moved'}: removing the tailscale serve endpoint vm made on port ${made.port} (→ ${made.target})`, 'off', made);
    // Gone, or changed by hand since: not vm's to remove any more; only its record goes.
    else steps.push({ service: d.name, resource: 'expose', action: 'remove', reason: `the tailscale serve endpoint vm made on port ${made.port} is no longer there as vm made it: forgetting it`, effect: { kind: 'remove', path: paths.serveRecord } });
  }
  if (want !== undefined) {
    const h = serve.tcp[String(want.port)];
    const host = tailnetHost(t as Running);
    if (h === undefined || (made !== undefined && made.port === want.port && made.target !== want.target && isOurs(made))) {
      // TLS-terminated TCP, not --https: tailscale's HTTPS proxy drops WebSocket upgrades from
      // HTTP/2 clients (tailscale/tailscale#20882); a TCP forwarder carries LiveKit's /rtc as is.
      step('create', `expose.https: tailscale serve on port ${want.port} (TLS-terminated TCP → ${want.target}) for wss://${host}:${want.port}`, 'on', want);
    } else if (!isOurs(want)) {
      warnings.push(`expose.https: tailscale already serves port ${want.port} (${h.web ? 'a web handler' : `→ ${h.forward ?? '?'}`}), not LiveKit; choose another expose.https_port, or remove it with \`tailscale serve --tls-terminated-tcp=${want.port} off\``);
    } else if (made === undefined) {
      // Already there exactly as vm would make it (by hand, or a lost record): left as it is,
      // and not vm's to remove later.
    }
  }
  return { steps, warnings };
}
