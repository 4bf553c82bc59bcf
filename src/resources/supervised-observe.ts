// What a supervised service of one port and one program vm never installs (command, whisper,
// kokoro, redis) observes the same way: the supervisor and runtime, the definition, the log
// directory, vm's written record, who holds the port, the local addresses and the health answer.
// Each kind brings its health probe and the probes of its own files, run in the same round: a plan
// waits for one round trip, not two. Never changes anything; everything absent is a value.

import type { FileState, HealthState, PathPresence, RuntimeState, ServiceDesiredBase, ServicePaths, ServiceSpec, SupervisorKind, SupervisorState, WrittenRecord } from '../model.js';
import type { Facts } from '../facts/facts.js';
import type { Host } from '../platform/host.js';
import { listening, ownersOf } from '../platform/port-holder.js';
import { foreignOf, localAddresses, type Holder } from './listening.js';
import { parseRecord } from './ownership.js';

/** What every such kind's observation holds besides `kind` and its own files. */
export interface SupervisedObserved {
  readonly supervisor: SupervisorState;
  readonly lingering?: boolean | undefined;
  /** argv[0], or kokoro's checkout directory. */
  readonly program: PathPresence;
  readonly definition: FileState;
  readonly runtime: RuntimeState | undefined;
  readonly logDirMode: number | undefined;
  readonly logDirExists: boolean;
  readonly written: WrittenRecord;
  readonly portHolder?: Holder | undefined;
  readonly localAddresses?: readonly string[] | undefined;
  readonly health: HealthState;
}

export interface SupervisedProbes<K extends string, T extends object> {
  readonly kind: K;
  readonly spec: (kind: SupervisorKind) => ServiceSpec;
  /** The kind's health check, as the service itself answers it. */
  readonly health: () => Promise<HealthState>;
  /** The kind's own files, observed in the same round. */
  readonly own: () => Promise<T>;
}

export async function observeSupervised<K extends string, T extends object>(
  host: Host,
  facts: Facts,
  d: Pick<ServiceDesiredBase, 'port' | 'bindAddresses'> & { readonly program: string },
  paths: Pick<ServicePaths, 'unitFile' | 'plistFile' | 'logDir' | 'writtenRecord'>,
  p: SupervisedProbes<K, T>,
): Promise<{ readonly kind: K } & T & SupervisedObserved> {
  const [sup, program, own, unitFile, logDir, written, health, lingering, listeners] = await Promise.all([
    facts.supervise(p.spec),
    presence(host, d.program),
    p.own(),
    host.readFile(paths.unitFile),
    host.stat(paths.logDir),
    host.readFile(paths.writtenRecord).then(parseRecord),
    p.health(),
    facts.lingering(),
    // Who listens on its port: whether that is vm's process needs its pid, below (Linux only).
    listening(host, [{ port: d.port, addresses: d.bindAddresses }]),
  ]);
  const kind = sup.supervisor.kind === 'unavailable' ? undefined : sup.supervisor.kind;
  const [definition, owners] = await Promise.all([
    kind === 'systemd' ? unitFile : kind === 'launchd' ? host.readFile(paths.plistFile) : ({ exists: false } as const),
    ownersOf(host, listeners, sup.runtime?.running === true ? sup.runtime.pid : undefined),
  ]);
  const holder = foreignOf(owners?.[0]);
  return {
    kind: p.kind,
    supervisor: sup.supervisor,
    ...(lingering === undefined || kind !== 'systemd' ? {} : { lingering }),
    program,
    ...own,
    definition,
    runtime: sup.runtime,
    logDirMode: logDir?.mode,
    logDirExists: logDir !== undefined,
    written,
    ...(holder === undefined ? {} : { portHolder: holder }),
    localAddresses: localAddresses(host),
    // Whatever answered, it was not vm's process: health is the service's own answer only.
    health: holder === undefined ? health : { kind: 'foreign', ...holder },
  };
}

export async function presence(host: Host, path: string): Promise<PathPresence> {
  const st = await host.stat(path);
  if (st === undefined) return { exists: false };
  return { exists: true, kind: st.kind, executable: (st.mode & 0o111) !== 0, mtimeMs: st.mtimeMs, size: st.size };
}
