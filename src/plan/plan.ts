// The whole plan: every declared service planned by its kind, in the file's order. Pure.

import type { DesiredState, Plan, PlanJson, Roots, RuntimeState, ServiceDesired, ServiceObserved, ServicePaths, SupervisorState } from '../model.js';
import { attemptOf, failureNote } from '../apply/failure-record.js';
import type { FailureRecord } from '../model.js';
import type { ServicePlan, ServiceSnapshot } from '../services/contract.js';
import type { FragmentFiles } from '../resources/managed-fragment.js';
import { kindOf } from '../services/registry.js';
import { planClients } from './clients.js';
import type { PlanContext } from './context.js';

export interface Observation {
  readonly services: ReadonlyArray<{
    readonly name: string;
    readonly desired: ServiceDesired;
    readonly paths: ServicePaths;
    readonly observed: ServiceObserved;
    /** The service's last change that failed and was rolled back, as vm recorded it. */
    readonly failed: FailureRecord | undefined;
  }>;
  /**
   * Services the file no longer declares: vm's files for them, and what the supervisor says of
   * their unit (or PID file) — above all, whether they still run.
   */
  readonly leftovers: ReadonlyArray<{
    readonly name: string;
    readonly files: readonly string[];
    readonly runtime?: { readonly supervisor: SupervisorState; readonly runtime: RuntimeState };
  }>;
  /** Client config files (`clients:`) and the fragments vm's record says it wrote. */
  readonly clients: FragmentFiles;
}

export function plan(
  desired: DesiredState,
  observed: Observation,
  ctx: PlanContext,
  roots: Roots,
): { roots: Roots; services: ServiceSnapshot[]; leftovers: Observation['leftovers']; clients: ServicePlan; plan: Plan } {
  const notes: string[] = [];
  if (desired.source.kind === 'default') {
    notes.push('no voicemode.services.yaml found: using the built-in default (LiveKit on 127.0.0.1 with a generated key); `vm init` writes it as a file');
  }
  if (desired.host !== undefined) notes.push(hostNote(desired.host));
  for (const l of observed.leftovers) {
    // Deleting by omission is how people lose data: a service dropped from the file is left alone.
    const rt = l.runtime?.runtime;
    if (rt?.running === true) {
      notes.push(`${l.name} is not in the file but is still running (pid ${rt.pid}, ${l.runtime?.supervisor.kind}); vm leaves it alone. Declare it with \`state: absent\` and run \`vm apply\` to remove it.`);
    } else {
      notes.push(`${l.name} is not in the file, but vm's files for it are still here (${l.files.join(', ')}); vm leaves them alone. ` + `To remove it, declare it with \`state: absent\` and run \`vm apply\`.`);
    }
  }
  const services = observed.services.map((s) => {
    const kind = kindOf(s.desired);
    const p = kind.plan(s.desired, s.observed, s.paths, ctx);
    // Named here, so apply can record it if it fails and is rolled back; the note while it stays so.
    const attempt = attemptOf(s.name, s.desired, kind.resolved?.(s.desired, s.observed), s.failed, p.steps, ctx.hmac, ctx.freshSalt);
    const plan = attempt?.failedBefore === undefined ? p : { ...p, notes: [...p.notes, failureNote(attempt.failedBefore)] };
    return { ...s, plan, ...(attempt === undefined ? {} : { attempt }) };
  });
  // After every service: client files repeat what the services' own files hold (./clients.ts).
  const clients = planClients(desired, services, observed.clients, ctx, roots);
  const all = [...services.map((s) => s.plan), clients];
  if (services.length === 0 && observed.leftovers.length === 0) notes.push('no services declared: nothing to manage');
  // Every service reports the same supervisor: the facts decide it once per snapshot.
  const supervisor = services[0]?.observed.supervisor;
  return {
    roots,
    services,
    leftovers: observed.leftovers,
    clients,
    plan: {
      ...(supervisor === undefined ? {} : { supervisor }),
      steps: all.flatMap((p) => p.steps),
      blockers: all.flatMap((p) => p.blockers),
      warnings: all.flatMap((p) => p.warnings),
      notes: [...notes, ...all.flatMap((p) => p.notes)],
    },
  };
}

/** The public JSON shape; the same data the human renderer draws, without effects or secrets. */
export function planToJson(p: Plan): PlanJson {
  return {
    format_version: '1',
    changes: p.steps.length > 0,
    ...(p.supervisor === undefined ? {} : { supervisor: { kind: p.supervisor.kind, why: p.supervisor.why } }),
    steps: p.steps.map((s) => ({ service: s.service, resource: s.resource, action: s.action, reason: s.reason })),
    blockers: p.blockers,
    warnings: p.warnings,
    notes: p.notes,
  };
}

/** "host homeserver: hosts.homeserver applied": which `hosts:` entries shaped this plan. */
export function hostNote(h: NonNullable<DesiredState['host']>): string {
  const label = (p: string) => (/^[A-Za-z0-9_-]+$/.test(p) ? `hosts.${p}` : `hosts.${JSON.stringify(p)}`);
  return h.applied.length === 0 ? `host ${h.name}: no hosts entry matches; the base applies` : `host ${h.name}: ${h.applied.map(label).join(', ')} applied`;
}
