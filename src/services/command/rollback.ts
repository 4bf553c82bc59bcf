// Rollback of a supervised HTTP service: put its unit or plist back as it was, then restart it
// if it was running (and wait for health) or stop it. A model vm downloaded stays: it was
// checked against its sha256, and a second try should not download it again. Pure.

import type { Effect, Step } from '../../model.js';
import type { HttpObserved, HttpServiceDesired } from './model.js';
import { rollbackSupervised } from '../../resources/supervised.js';
import type { ServiceSnapshot } from '../contract.js';
import type { HttpPaths } from './paths.js';

export function httpRollback(before: ServiceSnapshot<HttpServiceDesired, HttpObserved, HttpPaths>, touched: readonly Step[]): Effect[] {
  const o = before.observed;
  return rollbackSupervised(o, before.plan.steps, touched, (step) => (step.resource === 'unit' ? o.definition : undefined));
}
