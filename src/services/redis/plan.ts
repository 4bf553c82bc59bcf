// The planner of a `redis` service: the program (never installed by vm: a blocker when missing),
// its config file (0600, a managed file: it holds requirepass; diffs show `(sensitive)`), its data
// directory, then the supervised process as for every kind, healthy when PING answers PONG. Pure.

import type { Effect, ResourceKind, StepAction } from '../../model.js';
import type { RedisDesired, RedisObserved } from './model.js';
import type { PlanContext } from '../../plan/context.js';
import { fileProblem, planWrite, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, type Ownership } from '../../resources/managed-file.js';
import { planSupervised, planSupervisedAbsent, planSupervisor, programInput } from '../../resources/supervised.js';
import { renderHttpDefinition } from '../command/spec.js';
import type { ServicePlan } from '../contract.js';
import { redisHealthWait, redisServiceSpec, renderRedisConfig, type RedisPaths } from './spec.js';

const SENSITIVE = '(sensitive)';

export function planRedis(d: RedisDesired, o: RedisObserved, paths: RedisPaths, ctx: PlanContext): ServicePlan {
  const out: ServicePlan = { steps: [], blockers: [], warnings: [], notes: [] };
  const { kind, svc } = planSupervisor(out, d.name, d.state, o, (k) => redisServiceSpec(d, paths, k));
  const add = (resource: ResourceKind, action: StepAction, reason: string, effect: Effect): void => {
    out.steps.push({ service: d.name, resource, action, reason, effect });
  };

  if (d.state === 'absent') {
    planSupervisedAbsent(out.steps, d.name, o, svc);
    if (o.config.exists) add('config', 'remove', `${paths.config}: state: absent`, { kind: 'remove', path: paths.config });
    if (o.program.exists) out.notes.push(`${d.program} is not vm's to remove: it stays`);
    if (d.removeData) {
      if (o.dataDirMode !== undefined) add('data', 'remove', `${paths.dataDir}: state: absent with remove_data: true`, { kind: 'remove', path: paths.dataDir });
      if (o.logDirExists) add('data', 'remove', `${paths.logDir}: state: absent with remove_data: true`, { kind: 'remove', path: paths.logDir });
    } else if (o.dataDirMode !== undefined || o.logDirExists) out.notes.push(`${d.name}'s data (${paths.dataDir}) and logs are kept (remove_data: true deletes them)`);
    return out;
  }

  if (!o.program.exists) out.blockers.push(`${d.name}: ${d.program} does not exist (vm never installs it: apt install redis-server, or set install.path)`);
  else if (o.program.kind === 'file' && !o.program.executable) out.blockers.push(`${d.name}: ${d.program} is not executable`);

  const own: Ownership = { written: o.written, salt: o.written.salt ?? ctx.freshSalt(), stateFile: paths.writtenRecord, hmac: ctx.hmac, force: ctx.force };
  const restartBecause: string[] = [];
  if (o.dataDirMode === undefined) add('config', 'create', `${paths.dataDir}: data directory missing`, { kind: 'mkdir', path: paths.dataDir, mode: PRIVATE_DIR_MODE });
  const config = renderRedisConfig(d, paths);
  const redact = (text: string) => text.replace(/^requirepass .*$/m, `requirepass ${SENSITIVE}`);
  const shownAfter = redact(config);
  const why = fileProblem(o.config, config, PRIVATE_FILE_MODE, (before) => (redact(before) === shownAfter ? 'config changed: requirepass (sensitive) changed' : `config changed: ${lineChanges(redact(before), shownAfter)}`));
  if (why !== undefined) {
    planWrite(out, d.name, 'config', why, { path: paths.config, observed: o.config, content: config, mode: PRIVATE_FILE_MODE, dirMode: PRIVATE_DIR_MODE, shown: { before: o.config.exists ? redact(o.config.content) : undefined, after: shownAfter } }, own);
    restartBecause.push(o.config.exists ? 'config changed' : 'config created');
  }
  if (kind === undefined || svc === undefined || o.runtime === undefined) return out;

  const definition = renderHttpDefinition(kind, svc, ctx.template('service.service'));
  const health = redisHealthWait(d);
  const uses = [['config', o.config.exists ? o.config.mtimeMs : undefined]] as const;
  planSupervised(out, programInput(d, o, { state: d.state, kind, svc, runtime: o.runtime, definition, logDir: paths.logDir, health, restartBecause, uses }), own);
  return out;
}

/** "port 6379 → 6390": the directive lines that differ (redis.conf is not YAML). */
function lineChanges(before: string, after: string): string {
  const directives = (t: string) => new Map(t.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => [l.split(' ')[0] ?? l, l.slice((l.split(' ')[0] ?? '').length + 1)] as const));
  const a = directives(before);
  const b = directives(after);
  const out: string[] = [];
  for (const [k, v] of b) if (a.get(k) !== v) out.push(a.has(k) ? `${k} ${a.get(k) ?? ''} → ${v}` : `${k} added`);
  for (const k of a.keys()) if (!b.has(k)) out.push(`${k} removed`);
  return out.length === 0 ? 'edited by hand (comments or formatting)' : out.slice(0, 3).join(', ');
}

