// A supervised HTTP service's files: the common ones, plus where vm keeps models it downloads.

import { join } from 'node:path';
import type { Roots, ServiceName, ServicePaths } from '../../model.js';
import { servicePaths } from '../../paths.js';

export interface HttpPaths extends ServicePaths {
  /** $VOICEMODE_HOME/services/NAME/models: models vm downloaded (they go with `absent`). */
  readonly modelsDir: string;
}

export function httpPaths(roots: Roots, name: ServiceName): HttpPaths {
  const base = servicePaths(roots, name);
  return { ...base, modelsDir: join(base.dir, 'models') };
}
