// Creates or removes the `tailscale serve` endpoint of expose.https, and vm's record of it: the
// record is what lets vm remove the endpoint it made and nothing else. Idempotent: `on` for an
// endpoint that is already there as asked, or `off` for one already gone, leave the same result.

import type { Effect } from '../model.js';
import type { Host } from '../platform/host.js';
import { UserError } from '../errors.js';
import { observeServe } from '../facts/tailnet.js';

const PRIVATE_DIR_MODE = 0o700;

export async function runServe(host: Host, e: Extract<Effect, { kind: 'tailscale-serve' }>): Promise<void> {
  // --tls-terminated-tcp: tailscale terminates TLS with the node's certificate and forwards the
  // bytes; its --https proxy drops WebSocket upgrades from HTTP/2 clients (tailscale#20882).
  const flag = `--tls-terminated-tcp=${e.port}`;
  const args = e.verb === 'on' ? ['serve', '--bg', '--yes', flag, `tcp://${e.target}`] : ['serve', flag, 'off'];
  if (e.verb === 'on') {
    // Recorded first: an apply cut short after tailscale made the endpoint still knows it is vm's.
    await host.writeFileAtomic(e.record, `${JSON.stringify({ port: e.port, target: e.target })}\n`, 0o600, PRIVATE_DIR_MODE);
  }
  const r = await host.exec(e.binary, args, { timeoutMs: 15_000 });
  if (r.code !== 0 && e.verb === 'off' && e.absentOk === true && !(await served(host, e))) {
    await host.remove(e.record);
    return;
  }
  if (r.code !== 0) {
    const line = (r.stderr || r.stdout || r.error || '').trim().split('\n')[0] ?? '';
    throw new UserError('STEP_FAILED', `\`tailscale ${args.join(' ')}\` failed (exit ${r.code})${line === '' ? '' : `: ${line}`}`);
  }
  if (e.verb === 'off') await host.remove(e.record);
}

/** Whether tailscale serves e.port at all; true when it cannot say. */
async function served(host: Host, e: Extract<Effect, { kind: 'tailscale-serve' }>): Promise<boolean> {
  const s = await observeServe(host, e.binary);
  return !s.ok || Object.hasOwn(s.tcp, String(e.port));
}
