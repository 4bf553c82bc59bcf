// The tailnet fact and what it means for LiveKit's config, warnings and tailscale serve steps:
// pure functions fed tailscale's own answers (shapes of ipn/ipnstate.Status and ipn.ServeConfig).

import { describe, expect, it } from 'vitest';
import type { LiveKitDesired, LiveKitObserved } from '../../src/services/livekit/model.js';
import { parseServeStatus, parseTailnetStatus } from '../../src/facts/tailnet.js';
import { planServe, remoteUrl, tailnetAddress, tailnetWarnings } from '../../src/services/livekit/expose.js';
import { renderConfig } from '../../src/services/livekit/render.js';
import { livekitPathsFor } from '../helpers/desired.js';

const paths = livekitPathsFor({ HOME: '/home/u' });
const status = (backend: string, extra: object = {}) =>
  JSON.stringify({ BackendState: backend, TailscaleIPs: backend === 'Running' ? ['100.101.102.103', 'fd7a::1'] : [], Self: { DNSName: 'box.tail1234.ts.net.', TailscaleIPs: backend === 'Running' ? ['fd7a::1', '100.101.102.103'] : [] }, CurrentTailnet: { MagicDNSSuffix: 'tail1234.ts.net', MagicDNSEnabled: true }, ...extra });

function desired(expose?: LiveKitDesired['expose']): LiveKitDesired {
  return {
    name: 'livekit', kind: 'livekit', state: 'running', autostart: true, removeData: false, dev: false, version: '1.9.0',
    install: { method: 'release', baseUrl: 'https://github.com/livekit/livekit/releases' }, port: 7880, bindAddresses: ['127.0.0.1'],
    rtc: { portRangeStart: 50000, portRangeEnd: 60000, tcpPort: 7881, useExternalIp: false }, keys: { kind: 'declared', entries: { k: 'x'.repeat(40) } },
    room: { autoCreate: true, emptyTimeout: 300 }, logging: { level: 'info', maxBytes: 1 << 20 }, health: { timeoutMs: 30_000 },
    ...(expose === undefined ? {} : { expose }),
  };
}

describe('tailscale status --json', () => {
  it('Running: the IPv4 and the MagicDNS name without its trailing dot', () => {
    expect(parseTailnetStatus('tailscale', 0, status('Running'), '')).toEqual({ kind: 'running', binary: 'tailscale', ipv4: '100.101.102.103', dnsName: 'box.tail1234.ts.net' });
  });
  it('MagicDNS off: no name, so clients get the address', () => {
    const t = parseTailnetStatus('tailscale', 0, status('Running', { CurrentTailnet: { MagicDNSEnabled: false } }), '');
    expect(t).toMatchObject({ kind: 'running', dnsName: undefined });
  });
  it('NeedsLogin, Stopped and no daemon are states with a reason and a fix', () => {
    expect(parseTailnetStatus('tailscale', 0, status('NeedsLogin'), '')).toMatchObject({ kind: 'down', why: 'tailscale says NeedsLogin', fix: 'run `tailscale up`' });
    expect(parseTailnetStatus('tailscale', 0, status('Stopped'), '')).toMatchObject({ kind: 'down', state: 'Stopped' });
    expect(parseTailnetStatus('tailscale', 1, '', "failed to connect to local tailscaled; it doesn't appear to be running")).toMatchObject({ kind: 'down', state: 'no-daemon', why: 'tailscaled is not running' });
    expect(parseTailnetStatus('tailscale', 1, 'garbage', '')).toMatchObject({ kind: 'down', state: 'unreadable' });
  });
});

describe('tailscale serve status --json', () => {
  it('reads TCP forwarders and says which terminate TLS', () => {
    expect(parseServeStatus(0, '{"TCP":{"7443":{"TCPForward":"127.0.0.1:7880","TerminateTLS":"box.tail1234.ts.net"},"443":{"HTTPS":true}}}', '')).toEqual({
      ok: true,
      tcp: { '7443': { forward: '127.0.0.1:7880', terminateTls: 'box.tail1234.ts.net', web: false }, '443': { forward: undefined, terminateTls: undefined, web: true } },
    });
    expect(parseServeStatus(0, '{}\n', '')).toEqual({ ok: true, tcp: {} });
  });
});

describe('LiveKit on the tailnet', () => {
  const up = parseTailnetStatus('tailscale', 0, status('Running'), '');
  const down = parseTailnetStatus('tailscale', 0, status('NeedsLogin'), '');
  const d = desired({ tailscale: true, https: false, httpsPort: 7443 });

  it('Running: also binds the tailnet address (loopback stays) and advertises it as rtc.node_ip', () => {
    const text = renderConfig(d, paths, tailnetAddress(d, up));
    expect(text).toContain('bind_addresses:\n  - 127.0.0.1\n  - 100.101.102.103\n');
    expect(text).toContain('node_ip: 100.101.102.103');
    expect(text).not.toContain('0.0.0.0');
  });
  it('not Running: the loopback-only config and a warning with the reason and the fix', () => {
    expect(tailnetAddress(d, down)).toBeUndefined();
    expect(renderConfig(d, paths, undefined)).not.toContain('node_ip');
    expect(tailnetWarnings(d, down)).toEqual(['not exposed on the tailnet: tailscale says NeedsLogin — run `tailscale up`; LiveKit keeps serving locally']);
  });
  it('the remote URL: ws:// on the MagicDNS name, wss:// with https', () => {
    expect(remoteUrl(d, up)).toEqual({ ok: true, url: 'ws://box.tail1234.ts.net:7880' });
    expect(remoteUrl(desired({ tailscale: true, https: true, httpsPort: 7443 }), up)).toEqual({ ok: true, url: 'wss://box.tail1234.ts.net:7443' });
    expect(remoteUrl(d, down)).toMatchObject({ ok: false });
  });

  const observed = (over: Partial<LiveKitObserved>): LiveKitObserved => ({ tailnet: up, ...over }) as LiveKitObserved;
  const https = desired({ tailscale: true, https: true, httpsPort: 7443 });
  it('https: one create step (TLS-terminated TCP to LiveKit), then nothing once it is there', () => {
    const first = planServe(https, observed({ serve: { ok: true, tcp: {} } }), paths);
    expect(first.steps.map((s) => [s.resource, s.action, s.effect])).toEqual([
      ['expose', 'create', { kind: 'tailscale-serve', binary: 'tailscale', verb: 'on', port: 7443, target: '127.0.0.1:7880', record: paths.serveRecord }],
    ]);
    const there = { ok: true as const, tcp: { '7443': { forward: '127.0.0.1:7880', terminateTls: 'box.tail1234.ts.net', web: false } } };
    expect(planServe(https, observed({ serve: there, serveRecord: { port: 7443, target: '127.0.0.1:7880' } }), paths).steps).toEqual([]);
    // Un-exposed: the endpoint vm made goes; one vm did not make stays.
    expect(planServe(d, observed({ serve: there, serveRecord: { port: 7443, target: '127.0.0.1:7880' } }), paths).steps.map((s) => s.effect.kind === 'tailscale-serve' && s.effect.verb)).toEqual(['off']);
    expect(planServe(d, observed({ serve: there }), paths).steps).toEqual([]);
  });
  it('https on a port tailscale already serves for something else: a warning, no step', () => {
    const other = { ok: true as const, tcp: { '7443': { forward: undefined, terminateTls: undefined, web: true } } };
    const p = planServe(https, observed({ serve: other }), paths);
    expect(p.steps).toEqual([]);
    expect(p.warnings[0]).toMatch(/already serves port 7443/);
  });
});
