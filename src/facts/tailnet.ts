// This machine on its tailnet, as `tailscale status --json` says (tailscale/tailscale
// ipn/ipnstate.Status), and the endpoints `tailscale serve status --json` publishes (ipn.ServeConfig).
// Not being on the tailnet is a value with a reason and a fix, never an exception: no CLI, no
// daemon, logged out, stopped. Parsing is pure; observeTailnet/observeServe are the only I/O.

import { isIPv4 } from 'node:net';
import type { ServeHandler, ServeState, TailnetState } from '../model.js';
import type { Host } from '../platform/host.js';

/** The CLI inside the macOS app (the App Store and standalone variants both ship it there). */
export const MACOS_APP_CLI = '/Applications/Tailscale.app/Contents/MacOS/Tailscale';
const TIMEOUT_MS = 5_000;

/** What to do about each BackendState that is not Running (ipn.State). */
const FIXES: Readonly<Record<string, string>> = {
  NeedsLogin: 'run `tailscale up`',
  Stopped: 'run `tailscale up`',
  NeedsMachineAuth: 'approve this machine in the Tailscale admin console',
  Starting: 'wait for tailscale to connect',
  NoState: 'wait for tailscale to connect',
};

/** The `tailscale status --json` answer (exit code, stdout, stderr) → the tailnet state. Pure. */
export function parseTailnetStatus(binary: string, code: number, stdout: string, stderr: string): TailnetState {
  const down = (state: string, why: string, fix: string): TailnetState => ({ kind: 'down', binary, state, why, fix });
  // No daemon: "failed to connect to local tailscaled; it doesn't appear to be running" (exit 1).
  if (/tailscaled|connect to local/i.test(stderr) && code !== 0) {
    return down('no-daemon', 'tailscaled is not running', 'start it (`sudo systemctl start tailscaled`, or open the Tailscale app)');
  }
  let s: unknown;
  try {
    s = JSON.parse(stdout);
  } catch {
    const line = (stderr || stdout).trim().split('\n')[0] ?? '';
    return down('unreadable', `\`tailscale status --json\` did not answer JSON (exit ${code}${line === '' ? '' : `: ${line.slice(0, 160)}`})`, 'check `tailscale status`');
  }
  const st = (s ?? {}) as { BackendState?: unknown; Self?: { DNSName?: unknown; TailscaleIPs?: unknown } | null; TailscaleIPs?: unknown; CurrentTailnet?: { MagicDNSEnabled?: unknown } | null };
  const backend = typeof st.BackendState === 'string' ? st.BackendState : 'unknown';
  if (backend !== 'Running') return down(backend, `tailscale says ${backend}`, FIXES[backend] ?? 'check `tailscale status`');
  const ips = [st.Self?.TailscaleIPs, st.TailscaleIPs].find(Array.isArray) as unknown[] | undefined;
  const ipv4 = ips?.find((a): a is string => typeof a === 'string' && isIPv4(a));
  if (ipv4 === undefined) return down('no-ipv4', 'tailscale is Running but has no IPv4 address', 'check `tailscale ip -4`');
  // MagicDNS off: names do not resolve on the other devices, so clients get the address.
  const magic = st.CurrentTailnet?.MagicDNSEnabled !== false;
  const name = typeof st.Self?.DNSName === 'string' ? st.Self.DNSName.replace(/\.$/, '') : '';
  return { kind: 'running', binary, ipv4, dnsName: magic && name !== '' ? name : undefined };
}

/** `tailscale serve status --json` → its TCP ports. Pure. No config prints `{}` (or nothing). */
export function parseServeStatus(code: number, stdout: string, stderr: string): ServeState {
  if (code !== 0) return { ok: false, why: `\`tailscale serve status --json\` failed (exit ${code}): ${(stderr || stdout).trim().split('\n')[0] ?? ''}`.trim() };
  if (stdout.trim() === '') return { ok: true, tcp: {} };
  let s: unknown;
  try {
    s = JSON.parse(stdout);
  } catch {
    return { ok: false, why: '`tailscale serve status --json` did not answer JSON' };
  }
  const raw = ((s ?? {}) as { TCP?: unknown }).TCP;
  const tcp: Record<string, ServeHandler> = {};
  if (typeof raw === 'object' && raw !== null) {
    for (const [port, h] of Object.entries(raw as Record<string, unknown>)) {
      const x = (h ?? {}) as { TCPForward?: unknown; TerminateTLS?: unknown; HTTPS?: unknown; HTTP?: unknown };
      tcp[port] = {
        forward: typeof x.TCPForward === 'string' && x.TCPForward !== '' ? x.TCPForward : undefined,
        terminateTls: typeof x.TerminateTLS === 'string' && x.TerminateTLS !== '' ? x.TerminateTLS : undefined,
        web: x.HTTPS === true || x.HTTP === true,
      };
    }
  }
  return { ok: true, tcp };
}

/** `tailscale` on PATH; on macOS also the app's bundled CLI. Undefined when neither runs. */
async function run(host: Host, args: readonly string[]): Promise<{ binary: string; code: number; stdout: string; stderr: string } | undefined> {
  const candidates = host.platform === 'darwin' ? ['tailscale', MACOS_APP_CLI] : ['tailscale'];
  for (const binary of candidates) {
    const r = await host.exec(binary, args, { timeoutMs: TIMEOUT_MS });
    // 127: could not be started (not installed here); a timeout (124) is an answer of its own.
    if (r.code === 127) continue;
    return { binary, code: r.code, stdout: r.stdout, stderr: r.error !== undefined && r.stderr === '' ? r.error : r.stderr };
  }
  return undefined;
}

export async function observeTailnet(host: Host): Promise<TailnetState> {
  const r = await run(host, ['status', '--json']);
  if (r === undefined) return { kind: 'down', binary: undefined, state: 'not-installed', why: 'tailscale is not installed', fix: 'install Tailscale (https://tailscale.com/download) and run `tailscale up`' };
  return parseTailnetStatus(r.binary, r.code, r.stdout, r.stderr);
}

export async function observeServe(host: Host, binary: string): Promise<ServeState> {
  const r = await host.exec(binary, ['serve', 'status', '--json'], { timeoutMs: TIMEOUT_MS });
  return parseServeStatus(r.code, r.stdout, r.error !== undefined && r.stderr === '' ? r.error : r.stderr);
}

/** The host a remote client connects to: the MagicDNS name, else the tailnet address. */
export function tailnetHost(t: Extract<TailnetState, { kind: 'running' }>): string {
  return t.dnsName ?? t.ipv4;
}
