// The one contract every kind of service implements (LiveKit, whisper, kokoro, command). The
// core (reconcile, plan, apply, status, watch, logs) iterates the file's services and asks the
// registry (./registry.ts) for each one's kind; it never names a kind itself.
//
// Beside the code, each kind's folder holds its part of the file's JSON Schema, schema.json
// (scripts/gen-schema.mjs assembles them; it says what a part holds).
//
// What each member must guarantee:
//   rules      pure: reports what the schema cannot express, on the entry as written (even when
//              the schema found problems there: src/spec/rule-kit.ts).
//   normalise  pure: the validated entry → its desired state.
//   paths      pure; the same for the same environment and desired state.
//   observe    never changes anything; everything absent is a value, never an exception
//              (a UserError only for "this cannot be asked at all", e.g. no supervisor).
//   plan       pure: (desired, observed, paths) → steps with one-line reasons, blockers,
//              warnings, notes. Converged ⇔ no steps. Every start/restart is followed by a
//              wait-healthy step. A process that predates a file it uses is restarted.
//   rollback   pure: the effects that put back what `before` observed, for the steps that ran.
//   leftovers  files that show vm managed the service, for a service dropped from the file.
//   restartEffects  pure: one supervised restart and its wait for health (vm restart).
//   clientFragments  pure: what the kind keeps in client config files (`clients:`), for a
//              service that is not absent; src/plan/clients.ts plans and removes them.

import type {
  ChangeAttempt,
  ClientsDesired,
  Effect,
  FailureRecord,
  KindName,
  Roots,
  SecretResult,
  ServiceDesired,
  ServiceName,
  ServiceObserved,
  ServicePaths,
  Step,
} from '../model.js';
import type { Facts } from '../facts/facts.js';
import type { Host, HttpResult } from '../platform/host.js';
import type { ClientAccess } from './client-access.js';
import type { PlanContext } from '../plan/context.js';
import type { FragmentWant } from '../resources/managed-fragment.js';
import type { EnvVar } from '../resources/marked-block.js';
import type { Entry, RuleContext } from '../spec/rule-kit.js';
import type { SecretPlace } from '../spec/secrets.js';

export interface ServicePlan {
  readonly steps: Step[];
  readonly blockers: string[];
  readonly warnings: string[];
  readonly notes: string[];
}

/**
 * What a long-running watch keeps between cycles for one service, so a no-op cycle stays cheap
 * (LiveKit keeps binary versions and slow answers there: see livekit/observe.ts). One-shot
 * commands pass a fresh one.
 */
export type ObserveMemo = Map<string, unknown>;

/** One service as observed and planned. */
export interface ServiceSnapshot<D extends ServiceDesired = ServiceDesired, O extends ServiceObserved = ServiceObserved, P extends ServicePaths = ServicePaths> {
  readonly name: ServiceName;
  readonly desired: D;
  readonly observed: O;
  readonly paths: P;
  readonly plan: ServicePlan;
  /** The service's last change that failed and was rolled back, as vm recorded it. */
  readonly failed?: FailureRecord | undefined;
  /** Internal (never serialised): what apply records if this change fails and is rolled back. */
  readonly attempt?: ChangeAttempt;
}

export interface StatusOptions {
  /** A secret of the file could not be read: files that hold it were not compared. */
  readonly secretsUnread?: boolean;
}

/** One service in `vm status`: its `--json` object and the lines people read (no secrets). */
export interface ServiceStatusView {
  readonly json: Readonly<Record<string, unknown>>;
  readonly lines: readonly string[];
}

/** A version change a plan makes: what ran before and what the file asks for (for messages). */
export interface VersionChange {
  /** "livekit-server" */
  readonly program: string;
  readonly from: string;
  readonly to: string;
  /** The service was running (on `from`) when the apply began. */
  readonly wasRunning: boolean;
}

/** What a service offers Voice Mode's clients, for discovery and provider lists. */
export type Role = 'livekit' | 'stt' | 'tts';

/** How to recognise this kind answering on its well-known local port (`vm discover`). */
export interface WellKnown {
  readonly port: number;
  readonly path: string;
  readonly role: Role;
  /** Whether an answer there is this kind's (not just anything on the port). */
  recognise(r: HttpResult): boolean;
  /** The URL a client uses for a server found on `port`. */
  clientUrl(port: number): string;
}

/**
 * What normalising one service's entry needs from outside it: the environment (for `~/` and
 * `$VOICEMODE_HOME`), the duration and size parsers, and the secrets load.ts resolved.
 */
export interface NormaliseContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly platform: string;
  readonly expandHome: (path: string) => string;
  readonly parseDuration: (v: unknown) => number | undefined;
  readonly parseSize: (v: unknown) => number | undefined;
  /** $VOICEMODE_HOME, where vm's own service directories are. */
  readonly voicemodeHome: string;
  /** The entry's JSON pointer (`/services/NAME`). */
  readonly pointer: string;
  /** A secret (its kind's `secrets` named its place) by its JSON pointer, as load.ts read it. */
  readonly secretAt: (pointer: string) => string | undefined;
  /** A lazy secret (SecretPlace.lazy): its value, or why it cannot be had; undefined: not written. */
  readonly lazySecretAt: (pointer: string) => SecretResult | undefined;
}

export interface ServiceKind<D extends ServiceDesired = ServiceDesired, O extends ServiceObserved = ServiceObserved, P extends ServicePaths = ServicePaths> {
  readonly kind: KindName;
  /** Where it listens when the file gives no port; undefined: the file must give one. */
  readonly defaultPort: number | undefined;
  /** The checks of its entry its schema part cannot express (reported through ctx). */
  rules(entry: Entry, ctx: RuleContext): void;
  /**
   * Where its entry holds secrets (only those written, under `at`): each is text, { env } or
   * { file }, resolved by load.ts before the rules and normalise run, and never shown.
   */
  secrets?(entry: Entry, at: string): SecretPlace[];
  /**
   * Paths in its entry (from the entry: `/keys`, `/password`) whose values error messages never
   * show: a secret, or what may be one written in the wrong place.
   */
  readonly sensitive?: readonly string[];
  /** The file's entry (validated by the schema and the rules) → its desired state. Pure. */
  normalise(name: ServiceName, written: unknown, ctx: NormaliseContext): D;
  /** What people call it in messages: "LiveKit", "whisper", "my-llm". */
  title(name: ServiceName): string;
  paths(roots: Roots, name: ServiceName, d: D | undefined): P;
  observe(host: Host, d: D, paths: P, facts: Facts, memo: ObserveMemo): Promise<O>;
  plan(d: D, o: O, paths: P, ctx: PlanContext): ServicePlan;
  rollback(before: ServiceSnapshot<D, O, P>, touched: readonly Step[]): Effect[];
  /** What a rollback puts back, for messages: "the previous binary, config and unit". */
  readonly restores: string;
  /**
   * What the desired state resolves to here, beyond the file (LiveKit's `version: latest`): part
   * of what a failed change is remembered by, so a newer `latest` is a new change.
   */
  resolved?(d: D, o: O): Readonly<Record<string, unknown>>;
  /** After a successful rollback: tidy what the failed change left (a version that never ran healthy). */
  afterRollback?(host: Host, before: ServiceSnapshot<D, O, P>, touched: readonly Step[]): Promise<void>;
  /** The version change the service's plan makes, if any (messages after a failure). */
  versionChange?(s: ServiceSnapshot<D, O, P>): VersionChange | undefined;
  /** Files the service's desired state points at: saving one re-checks (vm watch). */
  referencedFiles(d: D): string[];
  /** Where vm's files for a service of this name would be, to report them when it is dropped. */
  leftovers(paths: P): string[];
  /** After a converged apply (e.g. remember binary versions, remove old downloads). */
  afterConverged?(host: Host, before: ServiceSnapshot<D, O, P>, after: ServiceSnapshot<D, O, P>, installed: boolean): Promise<void>;
  /** The service's endpoint for clients (whisper's /v1 base URL, …); undefined for none. */
  endpoint(d: D): { readonly role: Role; readonly url: string } | undefined;
  /** Where this kind usually listens when vm does not manage it. */
  readonly wellKnown?: WellKnown;
  /**
   * `vm restart`: the effects that restart the running service once through its supervisor and
   * wait for its health ([] when there is no supervisor to ask). Pure; from the plan's own data.
   */
  restartEffects(s: ServiceSnapshot<D, O, P>): Effect[];
  /** The `vm status` view of one service. */
  status(s: ServiceSnapshot<D, O, P>, opts?: StatusOptions): ServiceStatusView;
  /**
   * The fragments this kind keeps in client config files (`clients:` in the file: LiveKit's
   * block in the env file and its lk project). `providers`: Voice Mode's provider lists from
   * the other declared services, for the env block. Asked only when the service is not absent.
   */
  clientFragments?(d: D, o: O, ctx: PlanContext, clients: ClientsDesired, providers: readonly EnvVar[]): FragmentWant[];
  /** What its clients connect with (vm env, exec, token, rooms); undefined when it has none. */
  readonly clients?: ClientAccess<D, P>;
}
