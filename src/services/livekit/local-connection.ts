// What a client connects to the local LiveKit with: its URL, the first declared key (or the
// generated one, whose secret is in the key file). Pure: from desired and observed only, the
// same values the key file and the config are planned from. `vm env`, `vm exec`, `vm token`
// and the client config files (clients.ts) all take them from here.

import type { FileState } from '../../model.js';
import type { LiveKitDesired } from './model.js';
import { resolveKeys } from './keys.js';
import { clientUrl } from './render.js';

export interface LocalConnection {
  readonly url: string;
  readonly apiKey: string;
  readonly apiSecret: string;
}

/**
 * `freshSecret` is asked only when the key is generated and the key file holds none yet: the
 * plan that creates the key file uses the same one (the plan context memoises it).
 */
export function localConnection(d: Pick<LiveKitDesired, 'port' | 'bindAddresses' | 'keys'>, keyFile: FileState, freshSecret: () => string): LocalConnection {
  const keys = resolveKeys(d.keys, keyFile, freshSecret).entries;
  const first = Object.entries(keys)[0];
  // The schema requires at least one key when `keys:` is written; generated keys have one.
  if (first === undefined) throw new Error('LiveKit has no API key');
  return { url: clientUrl(d), apiKey: first[0], apiSecret: first[1] };
}
