// Observes a supervised HTTP service. Never changes anything; everything absent is a value.
// One round of concurrent probes (resources/supervised-observe.ts), with its own files in it.

import type { HttpObserved, HttpServiceDesired } from './model.js';
import type { Facts } from '../../facts/facts.js';
import type { Host } from '../../platform/host.js';
import { observeHealth } from '../../resources/health.js';
import { observeSupervised, presence } from '../../resources/supervised-observe.js';
import type { HttpPaths } from './paths.js';
import { httpHealthUrl, httpServiceSpec, HTTP_HEALTH } from './spec.js';

export function observeHttp(host: Host, d: HttpServiceDesired, paths: HttpPaths, facts: Facts): Promise<HttpObserved> {
  return observeSupervised(host, facts, d, paths, {
    kind: 'http',
    spec: (kind) => httpServiceSpec(d, paths, kind),
    health: () => observeHealth(host, httpHealthUrl(d), HTTP_HEALTH),
    own: async () => {
      const [workingDir, model, modelsDir] = await Promise.all([
        d.workingDir === undefined ? Promise.resolve(undefined) : presence(host, d.workingDir),
        d.model === undefined ? Promise.resolve(undefined) : presence(host, d.model.path),
        host.stat(paths.modelsDir),
      ]);
      return { workingDir, model, modelsDirExists: modelsDir !== undefined };
    },
  });
}
