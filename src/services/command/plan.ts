// The planner of a supervised HTTP service (command, whisper, kokoro): the program it needs
// (never installed or changed by vm: a blocker when missing), the model (downloaded and checked
// when the file gives a url), then the supervised process as for every kind. Pure.

import { basename } from 'node:path';
import type { Effect, ResourceKind, StepAction } from '../../model.js';
import type { HttpObserved, HttpServiceDesired } from './model.js';
import type { PlanContext } from '../../plan/context.js';
import type { Ownership } from '../../resources/managed-file.js';
import { planSupervised, planSupervisedAbsent, planSupervisor, programInput } from '../../resources/supervised.js';
import type { ServicePlan } from '../contract.js';
import type { HttpPaths } from './paths.js';
import { httpHealthWait, httpServiceSpec, renderHttpDefinition } from './spec.js';

export function planHttp(d: HttpServiceDesired, o: HttpObserved, paths: HttpPaths, ctx: PlanContext): ServicePlan {
  const out: ServicePlan = { steps: [], blockers: [], warnings: [], notes: [] };
  const { kind, svc } = planSupervisor(out, d.name, d.state, o, (k) => httpServiceSpec(d, paths, k));
  const add = (resource: ResourceKind, action: StepAction, reason: string, effect: Effect): void => {
    out.steps.push({ service: d.name, resource, action, reason, effect });
  };

  if (d.state === 'absent') {
    planSupervisedAbsent(out.steps, d.name, o, svc);
    // Models vm downloaded are vm's: they go. A model or program the user pointed at stays.
    if (o.modelsDirExists) add('model', 'remove', `${paths.modelsDir}: state: absent (models vm downloaded)`, { kind: 'remove', path: paths.modelsDir });
    if (d.model?.kind === 'path' && o.model?.exists === true) out.notes.push(`the model ${d.model.path} is yours: it stays`);
    if (o.program.exists) out.notes.push(`${d.program} is not vm's to remove: it stays`);
    if (o.logDirExists) {
      if (d.removeData) add('data', 'remove', `${paths.logDir}: state: absent with remove_data: true`, { kind: 'remove', path: paths.logDir });
      else out.notes.push(`logs are kept in ${paths.logDir} (remove_data: true deletes them)`);
    }
    return out;
  }

  // What vm never installs: the program (or kokoro's checkout) and a working directory.
  const restartBecause: string[] = [];
  if (!o.program.exists) out.blockers.push(`${d.name}: ${d.program} does not exist (vm never installs or changes it)`);
  else if (o.program.kind === 'file' && !o.program.executable) out.blockers.push(`${d.name}: ${d.program} is not executable (chmod +x it)`);
  if (d.workingDir !== undefined && o.workingDir?.exists !== true) out.blockers.push(`${d.name}: working directory ${d.workingDir} does not exist`);

  // The model: the user's file must be there; a url is downloaded and checked before use.
  const m = d.model;
  if (m !== undefined && o.model?.exists !== true) {
    if (m.kind === 'path') out.blockers.push(`${d.name}: model ${m.path} does not exist (download it, or give model.url and model.sha256)`);
    else {
      add('model', 'install', `${m.path}: missing; download ${m.url} and check its sha256`, { kind: 'download', url: m.url, sha256: m.sha256, path: m.path, label: `${d.name} model ${basename(m.path)}` });
      restartBecause.push('model downloaded');
    }
  }
  if (kind === undefined || svc === undefined || o.runtime === undefined) return out;

  const own: Ownership = { written: o.written, salt: o.written.salt ?? ctx.freshSalt(), stateFile: paths.writtenRecord, hmac: ctx.hmac, force: ctx.force };
  const definition = renderHttpDefinition(kind, svc, ctx.template('service.service'));
  const health = httpHealthWait(d);
  const uses = [['model', o.model?.exists === true ? o.model.mtimeMs : undefined]] as const;
  planSupervised(out, programInput(d, o, { state: d.state, kind, svc, runtime: o.runtime, definition, logDir: paths.logDir, health, restartBecause, uses }), own);
  return out;
}
