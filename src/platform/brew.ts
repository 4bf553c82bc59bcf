// Homebrew, for `install.method: brew` (LiveKit's formula `livekit` is the only source of
// livekit-server on macOS: LiveKit publishes no darwin release builds). Loaded only for that
// method; the formula is the kind's to name.

import { UserError } from '../errors.js';
import type { Host } from './host.js';

/** `brew --prefix`, or undefined when brew is not installed. */
export async function brewPrefix(host: Host): Promise<string | undefined> {
  const r = await host.exec('brew', ['--prefix'], { timeoutMs: 15_000 });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/** The version Homebrew would install (`brew info --json=v2 FORMULA`), or why it cannot say. */
export async function brewStableVersion(host: Host, formula: string): Promise<{ ok: true; version: string } | { ok: false; why: string }> {
  const r = await host.exec('brew', ['info', '--json=v2', formula], { timeoutMs: 30_000 });
  if (r.code !== 0) return { ok: false, why: `brew info ${formula} failed: ${(r.stderr.trim() || r.error || `exit ${r.code}`).split('\n')[0]}` };
  try {
    const info = JSON.parse(r.stdout) as { formulae?: Array<{ versions?: { stable?: string } }> };
    const v = info.formulae?.[0]?.versions?.stable;
    return typeof v === 'string' ? { ok: true, version: v } : { ok: false, why: `brew info ${formula}: no stable version` };
  } catch {
    return { ok: false, why: `brew info ${formula}: not JSON` };
  }
}

export async function brewInstall(host: Host, formula: string, upgrade: boolean): Promise<void> {
  const args = [upgrade ? 'upgrade' : 'install', formula];
  // Homebrew would otherwise update itself first, which can take minutes.
  const r = await host.exec('brew', args, { timeoutMs: 15 * 60_000, env: { HOMEBREW_NO_AUTO_UPDATE: '1', HOMEBREW_NO_INSTALL_CLEANUP: '1' } });
  if (r.code !== 0) throw new UserError('INSTALL_FAILED', `brew ${args.join(' ')} failed: ${(r.stderr.trim() || r.error || `exit ${r.code}`).split('\n').slice(-1)[0]}`);
}
