// When LiveKit listens beyond loopback (or on the tailnet), anyone who can reach the port can
// try its keys and, in dev mode, its /debug/pprof endpoints. rules.ts (beside this file) refuses
// a weak secret or dev: true there (unless allow_insecure: true); exposureWarnings names what
// allow_insecure let through, for every plan to show. Pure.

import { describeExposure, exposure } from '../../spec/exposure.js';
import type { LiveKitDesired } from './model.js';

/** LiveKit logs secrets shorter than this as too short (FACTS.md); vm refuses them off loopback. */
export const MIN_EXPOSED_SECRET_LENGTH = 32;
/** The secret of LiveKit's dev mode (`devkey: secret`), printed in its docs: public. */
const WELL_KNOWN_SECRET = 'secret';

export type Weakness = 'well-known' | 'short';

/** Why a secret is too weak to face a network, or undefined. */
export function secretWeakness(secret: string): Weakness | undefined {
  if (secret === WELL_KNOWN_SECRET) return 'well-known';
  return secret.length < MIN_EXPOSED_SECRET_LENGTH ? 'short' : undefined;
}

export function describeWeakness(w: Weakness): string {
  return w === 'well-known' ? "is LiveKit's well-known development secret" : `is shorter than ${MIN_EXPOSED_SECRET_LENGTH} characters`;
}

/**
 * Warnings every plan must show for this desired state: LiveKit reachable beyond loopback with
 * a weak secret (or in dev mode). A file only gets here with `allow_insecure: true`; the
 * default (loopback, generated key) never warns.
 */
export function exposureWarnings(lk: LiveKitDesired): string[] {
  const open = exposure(lk.bindAddresses);
  if (open === undefined && lk.expose === undefined) return [];
  const where = open === undefined ? `LiveKit is reachable on the tailnet (expose.${lk.expose?.tailscale === true ? 'tailscale' : 'https'})` : `LiveKit listens on ${describeExposure(open)}`;
  const out: string[] = [];
  if (lk.keys.kind === 'declared') {
    for (const [name, secret] of Object.entries(lk.keys.entries)) {
      const weak = secretWeakness(secret);
      if (weak !== undefined) out.push(`${where} and the secret of key ${JSON.stringify(name)} ${describeWeakness(weak)} (allowed by allow_insecure: true)`);
    }
  }
  if (lk.dev) out.push(`${where} in dev mode, which serves /debug/pprof (allowed by allow_insecure: true)`);
  return out;
}
