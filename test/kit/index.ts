// The test kit: what every integration test reaches for, in one place — the `vm` runner, one
// waitFor, a services-file builder, and a stand-in per kind (the servers that cannot be
// downloaded here, imitating the real ones: see README, Tests).

import { stringify } from 'yaml';

export { ROOT, runVm, transcript, type VmResult } from '../helpers/vm.js';
export { spawnVm, type VmChild } from '../helpers/vm-child.js';
export { standinScript, writeStandin, type StandinOptions } from '../helpers/standin.js';
export { makeWhisperModel, whisperStandinScript, writeWhisperStandin } from '../helpers/whisper-standin.js';
export { writeKokoroCheckout, type KokoroCheckout } from '../helpers/kokoro-checkout.js';
export { startCloudStandin } from '../helpers/cloud-standin.js';
export { freePort, freePorts } from '../helpers/ports.js';

/**
 * Polls `cond` until it holds; fails naming `what` after `timeoutMs`. Tests wait for a condition,
 * never a fixed time: on a loaded machine everything takes longer.
 */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000, intervalMs = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A voicemode.services.yaml from plain data (`version: 1` first), as the yaml library writes it. */
export function servicesFile(services: Record<string, unknown>, top: Record<string, unknown> = {}): string {
  return stringify({ version: 1, ...top, services });
}
