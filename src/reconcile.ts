// observe → plan, shared by plan, apply, status and watch. Each call observes afresh: nothing
// depends on what an earlier run did. Services are observed concurrently (one round of probes
// each) and planned in the file's order; the core asks the registry for each one's kind.

import { createRequire } from 'node:module';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { readAsset } from './assets.js';
import { parseFailureRecord } from './apply/failure-record.js';
import { observeFacts, type Facts } from './facts/facts.js';
import type { DesiredState, Roots, ServiceName } from './model.js';
import { resolveRoots } from './paths.js';
import type { Host } from './platform/host.js';
import type { PlanContext } from './plan/context.js';
import { plan, type Observation } from './plan/plan.js';
import { specFromPaths } from './resources/supervised.js';
import type { ObserveMemo, ServicePlan, ServiceSnapshot } from './services/contract.js';
import { observeFragmentFiles } from './resources/managed-fragment.js';
import { parseRecord } from './resources/ownership.js';
import { findKind, kindNamed, kindOf, knownServiceNames } from './services/registry.js';


export interface Snapshot {
  readonly roots: Roots;
  /** Every declared service, in the file's order. */
  readonly services: readonly ServiceSnapshot[];
  /** What vm left of services the file no longer declares. */
  readonly leftovers: Observation['leftovers'];
  /** Client config files (`clients:`), planned after the services. */
  readonly clients: ServicePlan;
  readonly plan: import('./model.js').Plan;
}

export function planContext(opts: { force?: boolean } = {}): PlanContext {
  let secret: string | undefined;
  let salt: string | undefined;
  const templates = new Map<string, string>();
  return {
    template(file) {
      let t = templates.get(file);
      if (t === undefined) templates.set(file, (t = readAsset(`templates/${file}`)));
      return t;
    },
    // 32 random bytes → 43 base64url characters, above LiveKit's 32-character minimum.
    freshSecret: () => (secret ??= crypto().randomBytes(32).toString('base64url')),
    freshSalt: () => (salt ??= crypto().randomBytes(16).toString('hex')),
    hmac: (key, data) => crypto().createHmac('sha256', key).update(data).digest('hex'),
    force: opts.force === true,
  };
}

/** node:crypto, loaded only when a digest or secret is needed: it costs ~6 ms at load. */
function crypto(): typeof import('node:crypto') {
  return createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
}

export interface ObserveOptions {
  /** Kept across observations by a long-running watch, one memo per service name. */
  readonly memo?: Map<ServiceName, ObserveMemo>;
}

export async function observe(host: Host, desired: DesiredState, roots: Roots, opts: ObserveOptions = {}): Promise<Observation> {
  const facts = observeFacts(host, desired.supervisor, host.env['VOICEMODE_HOSTNAME'] ?? osHostname());
  const memoOf = (name: ServiceName): ObserveMemo => {
    const all = opts.memo;
    if (all === undefined) return new Map();
    let m = all.get(name);
    if (m === undefined) all.set(name, (m = new Map()));
    return m;
  };
  const declared = Object.values(desired.services);
  const clients = observeClients(host, desired, roots);
  const [services, left] = await Promise.all([
    Promise.all(
      declared.map(async (d) => {
        const kind = kindOf(d);
        const paths = kind.paths(roots, d.name, d);
        const [observed, failed] = await Promise.all([kind.observe(host, d, paths, facts, memoOf(d.name)), host.readFile(paths.failureRecord).then(parseFailureRecord)]);
        return { name: d.name, desired: d, paths, observed, failed };
      }),
    ),
    leftovers(host, desired, roots, facts),
  ]);
  return { services, leftovers: left, clients: await clients };
}

/** The client files `clients:` names and those vm's record says it put fragments in. */
async function observeClients(host: Host, desired: DesiredState, roots: Roots): Promise<Observation['clients']> {
  const written = parseRecord(await host.readFile(join(roots.voicemodeHome, 'state', 'written.json')));
  const c = desired.clients;
  const named = [c?.envFile, c?.lkProject?.configFile].filter((p): p is string => p !== undefined);
  return observeFragmentFiles(host, written, named);
}

/**
 * Services vm set up that the file no longer declares: only looked for, to say so (deleting by
 * omission is how people lose data) — its files, and whether the supervisor still runs it, for
 * every name vm knows (knownServiceNames); a name no kind is known by is looked for as a `command`.
 */
async function leftovers(host: Host, desired: DesiredState, roots: Roots, facts: Facts): Promise<Observation['leftovers']> {
  const names = knownServiceNames(await host.readdir(join(roots.voicemodeHome, 'logs'))).filter((n) => !Object.hasOwn(desired.services, n));
  const found = await Promise.all(
    names.map(async (name) => {
      const kind = findKind(name) ?? kindNamed('command');
      const paths = kind.paths(roots, name, undefined);
      const exists = async (f: string) => ((await host.stat(f)) === undefined ? undefined : f);
      const [present, pidFile] = await Promise.all([Promise.all(kind.leftovers(paths).map(exists)).then((fs) => fs.filter((f): f is string => f !== undefined)), exists(paths.pidFile)]);
      // vm runs a service only from its unit, plist or pid file: with none of them there is
      // nothing of vm's to ask the supervisor about (each such question costs a D-Bus round trip,
      // and systemd answers one for a unit it has not loaded with notices to every client).
      if (present.length === 0 && pidFile === undefined) return undefined;
      const sup = await facts.supervise((k) => specFromPaths(name, paths, k));
      const runtime = sup.runtime === undefined || sup.supervisor.kind === 'unavailable' ? undefined : { supervisor: sup.supervisor, runtime: sup.runtime };
      return present.length === 0 && runtime?.runtime.running !== true ? undefined : { name, files: present, ...(runtime === undefined ? {} : { runtime }) };
    }),
  );
  return found.flatMap((f) => (f === undefined ? [] : [f]));
}

export async function snapshot(host: Host, desired: DesiredState, ctx: PlanContext = planContext(), opts: ObserveOptions = {}): Promise<Snapshot> {
  const roots = resolveRoots(host.env);
  const observed = await observe(host, desired, roots, opts);
  return plan(desired, observed, ctx, roots);
}
