// Test shorthands over the generic desired state: the LiveKit service of a file, and LiveKit's
// paths for an environment (as vm derives them).

import type { DesiredState } from '../../src/model.js';
import type { LiveKitDesired, LiveKitPaths } from '../../src/services/livekit/model.js';
import { resolveRoots } from '../../src/paths.js';
import { livekitPaths } from '../../src/services/livekit/paths.js';

export function livekitOf(d: DesiredState): LiveKitDesired | undefined {
  const s = d.services['livekit'];
  return s?.kind === 'livekit' ? s : undefined;
}

export function livekitPathsFor(env: Readonly<Record<string, string | undefined>>, d?: LiveKitDesired): LiveKitPaths {
  return livekitPaths(resolveRoots(env), 'livekit', d);
}
