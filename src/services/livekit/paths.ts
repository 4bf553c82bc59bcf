// LiveKit's files, besides the ones every service has. Pure.

import { join } from 'node:path';
import type { Roots, ServiceName } from '../../model.js';
import type { LiveKitDesired, LiveKitPaths } from './model.js';
import { servicePaths } from '../../paths.js';

export function livekitPaths(roots: Roots, name: ServiceName, d?: LiveKitDesired): LiveKitPaths {
  const base = servicePaths(roots, name);
  return {
    ...base,
    versionsDir: join(base.dir, 'versions'),
    // brew's binary is only known once `brew --prefix` has answered: observe fills it in.
    binary: d?.install.method === 'path' ? d.install.path : join(base.dir, 'livekit-server'),
    config: join(base.dir, 'livekit.yaml'),
    keyFile: join(base.dir, 'keys.yaml'),
    serveRecord: join(roots.voicemodeHome, 'state', `tailscale-serve-${name}.json`),
  };
}
