// The vocabulary of vm, as types only. Nothing here performs I/O.
//
//   desired   what voicemode.services.yaml declares, normalised (defaults filled, durations parsed)
//   observed  what is on the machine right now; "absent" is a value, never an exception
//   step      one change that would move observed towards desired, with a one-line reason
//   plan      the ordered steps (empty when converged) plus warnings
//   converged a fresh plan has no steps

export type ServiceName = 'livekit';

/**
 * The resources vm manages for a service, in the order they are planned. `unit` is the
 * supervisor's definition (systemd unit, launchd plist; none for a plain process); `data` is
 * what only `remove_data: true` deletes (logs).
 */
export type ResourceKind = 'binary' | 'config' | 'unit' | 'running' | 'healthy' | 'data';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Where the desired state came from. `default` means no file was found. */
export type SpecSource =
  | { kind: 'file'; path: string; via: 'flag' | 'env' | 'search' | 'xdg' }
  | { kind: 'default' };

export type InstallMethod =
  /** GitHub release (or a mirror), checksum verified; `archive` installs a local tarball offline. */
  | { method: 'release'; baseUrl: string; archive?: string }
  /** An existing binary vm never modifies or removes. */
  | { method: 'path'; path: string }
  /** Homebrew's `livekit` formula; the binary is found from `brew --prefix`. */
  | { method: 'brew' }
  /** The official install script, with INSTALL_PATH set to vm's directory. Checks no checksum. */
  | { method: 'script'; scriptUrl: string };

export type ServiceState = 'running' | 'stopped' | 'absent';
export type SupervisorKind = 'systemd' | 'launchd' | 'process';

/**
 * API keys. `generated` means the file declared none: vm creates one `devkey` with a random
 * secret once and keeps it in the key file, so it never changes between applies.
 */
export type KeysSpec =
  | { kind: 'declared'; entries: Readonly<Record<string, string>> }
  | { kind: 'generated'; apiKey: string };

export interface LiveKitDesired {
  readonly name: 'livekit';
  readonly state: ServiceState;
  /** Start at login. Defaults to true when running, false when stopped. */
  readonly autostart: boolean;
  /** With state absent: remove the logs too. */
  readonly removeData: boolean;
  /** LiveKit's development mode (`development: true`): serves /debug/pprof; refused beyond loopback. */
  readonly dev: boolean;
  /**
   * Exact X.Y.Z, or 'latest' (resolved when observing, from `{base_url}/latest`); '' only when
   * the binary is not vm's to pin (install.path, brew, script) and no version is declared.
   */
  readonly version: string;
  readonly install: InstallMethod;
  readonly port: number;
  readonly bindAddresses: readonly string[];
  readonly rtc: {
    readonly portRangeStart: number;
    readonly portRangeEnd: number;
    readonly tcpPort: number;
    readonly useExternalIp: boolean;
  };
  readonly keys: KeysSpec;
  readonly room: { readonly autoCreate: boolean; readonly emptyTimeout: number };
  readonly logging: { readonly level: LogLevel; /** Rotate the log past this size. */ readonly maxBytes: number };
  readonly health: { readonly timeoutMs: number };
}

export interface DesiredState {
  readonly source: SpecSource;
  /** Other files the desired state was read from (secret files), for `vm watch`. */
  readonly inputs?: readonly string[];
  readonly supervisor: 'auto' | SupervisorKind;
  readonly services: { readonly livekit?: LiveKitDesired };
}

/** A problem in the desired-state file, located for the user. Lines and columns are 1-based. */
export interface SpecProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
  /** JSON pointer into the document, e.g. `/services/livekit/port`; '' for the whole file. */
  readonly pointer: string;
}

/** Where vm keeps things for one service. Computed once from the environment. */
export interface ServicePaths {
  /** $VOICEMODE_HOME/services/livekit */
  readonly dir: string;
  /** Where release installs keep each version: dir/versions/X.Y.Z/livekit-server */
  readonly versionsDir: string;
  /** The binary the unit runs: the managed one (a link to the active version) or install.path. */
  readonly binary: string;
  readonly config: string;
  readonly keyFile: string;
  readonly unitName: string;
  readonly unitFile: string;
  /** The link `systemctl enable` creates (WantedBy=default.target); its presence is "enabled". */
  readonly wantsLink: string;
  /** launchd: label and LaunchAgent plist. */
  readonly launchdLabel: string;
  readonly plistFile: string;
  /** process supervisor: where the PID of the running LiveKit is kept. */
  readonly pidFile: string;
  /** vm's record of what it wrote ($VOICEMODE_HOME/state/written.json). */
  readonly writtenRecord: string;
  /** What each binary answered to `--version`, per file ($VOICEMODE_HOME/state/versions.json). */
  readonly versionRecord: string;
  /** The last change that failed and was rolled back ($VOICEMODE_HOME/state/failed.json). */
  readonly failureRecord: string;
  readonly logDir: string;
  readonly logFile: string;
}

export interface Paths {
  readonly home: string;
  readonly voicemodeHome: string;
  readonly xdgConfigHome: string;
  readonly livekit: ServicePaths;
}

/** A file as observed: absent is a value. */
export type FileState =
  | { readonly exists: false }
  | { readonly exists: true; readonly content: string; readonly mode: number; readonly mtimeMs: number };

export type BinaryState =
  | { readonly kind: 'absent'; readonly path: string }
  /** Present, but `--version` failed or printed something unexpected. */
  | { readonly kind: 'broken'; readonly path: string; readonly detail: string }
  | {
      readonly kind: 'present';
      readonly path: string;
      readonly version: string;
      readonly mtimeMs: number;
      /** For vm's own install: the version directory the active link points into. */
      readonly target?: string;
      /** The file it was asked about (inode, size, mtime): what ties a version to a file. */
      readonly identity?: string;
    };

/** systemd's view of the unit, from one `systemctl --user show` call. */
export interface UnitState {
  readonly loadState: string; // loaded | not-found | bad-setting | error | masked
  readonly activeState: string; // active | activating | inactive | failed | deactivating | reloading
  readonly subState: string;
  readonly unitFileState: string; // enabled | disabled | static | '' ...
  readonly needDaemonReload: boolean;
  readonly mainPid: number;
  readonly fragmentPath: string;
  /** When the main process started (ms since epoch), if running. */
  readonly startedAtMs: number | undefined;
}

export type HealthState =
  | { readonly kind: 'healthy' }
  /** LiveKit answers 406 while its node stats are stale, right after start. */
  | { readonly kind: 'starting'; readonly status: number }
  | { readonly kind: 'unhealthy'; readonly detail: string };

/** The supervisor vm uses here, and why; or why the one the file asks for cannot be used. */
export type SupervisorState =
  | { readonly kind: SupervisorKind; readonly why: string }
  | { readonly kind: 'unavailable'; readonly wanted: SupervisorKind | 'auto'; readonly why: string };

/** What the supervisor knows of the service: the same shape for systemd, launchd and process. */
export interface RuntimeState {
  /** The supervisor has loaded the definition as it is on disk (always true for process). */
  readonly loaded: boolean;
  /** Why not, for the plan's reason ("systemd has an older copy of the unit file"). */
  readonly loadDetail: string;
  /** Starts at login. undefined where the supervisor cannot (process). */
  readonly enabled: boolean | undefined;
  readonly running: boolean;
  readonly pid: number;
  /** When the running process started (ms since epoch), when known. */
  readonly startedAtMs: number | undefined;
  /** One line for people: "active (running)", "inactive (dead)", "stale pid file (pid 123 is gone)". */
  readonly state: string;
}

export interface LiveKitObserved {
  /** Which service manager vm uses here (auto: systemd if a user manager answers, …). */
  readonly supervisor: SupervisorState;
  readonly binary: BinaryState;
  /** Release versions vm has installed under versions/ (sorted), for clean-up and removal. */
  readonly installedVersions: readonly string[];
  /** Only when the file says `version: latest`: what `{base_url}/latest` redirects to. */
  readonly latest?: { readonly ok: true; readonly version: string } | { readonly ok: false; readonly why: string };
  /** Only with install.method brew and a pinned version: what Homebrew would install. */
  readonly brewVersion?: { readonly ok: true; readonly version: string } | { readonly ok: false; readonly why: string };
  /** systemd only: whether lingering is on (user units survive logout); undefined if unknown. */
  readonly lingering?: boolean | undefined;
  readonly config: FileState;
  readonly keyFile: FileState;
  readonly keyDirMode: number | undefined;
  /** systemd does not create the directory of an `append:` log path; a missing one fails the start. */
  readonly logDirMode: number | undefined;
  /** The supervisor's definition file (unit or plist); `{ exists: false }` for process. */
  readonly definition: FileState;
  /** undefined when no supervisor could be asked. */
  readonly runtime: RuntimeState | undefined;
  /** Logs exist (only `remove_data` deletes them). */
  readonly logDirExists: boolean;
  /** vm's record of what it last wrote (a salted digest per managed file). */
  readonly written: WrittenRecord;
  /** The last change that failed and was rolled back, as vm recorded it; undefined when none. */
  readonly failed?: FailureRecord | undefined;
  /** When LiveKit is not healthy: who listens on its port, if anyone. */
  readonly portHolder?: { readonly pid: number; readonly command: string } | undefined;
  readonly health: HealthState;
}

/**
 * What vm last wrote to each managed file, as HMAC-SHA256(salt, content) — salted, so the record
 * says nothing about the key file's secrets. A file whose digest differs was edited by hand; a
 * file with no entry and no "Managed by vm" line was never vm's. Kept in $VOICEMODE_HOME/state.
 */
export interface WrittenRecord {
  /** undefined until vm first writes the record. */
  readonly salt: string | undefined;
  readonly files: Readonly<Record<string, string>>;
  /**
   * The digest each file had before vm's last write of it. The record is written before the file
   * (a crash in between must not make vm's own file look edited by hand), so until that write
   * lands the file still holds the previous content: vm's too.
   */
  readonly previous?: Readonly<Record<string, string>>;
}

/**
 * A change that failed and was rolled back, kept in $VOICEMODE_HOME/state/failed.json until an
 * apply converges, so `vm watch` does not retry it on every resync. The desired state it tried is
 * kept only as HMAC-SHA256(salt, …): the record says which file it was, not the secrets in it.
 */
export interface FailureRecord {
  readonly service: ServiceName;
  /** What was tried: a version ("1.9.2"), or the steps ("config update, running restart"). */
  readonly change: string;
  /** The step that failed, e.g. "healthy wait-healthy". */
  readonly failedStep: string;
  /** When it failed (ISO 8601). */
  readonly at: string;
  readonly salt: string;
  readonly digest: string;
}

/** The change a plan would make, named as a failure record would name it. */
export interface ChangeAttempt {
  readonly service: ServiceName;
  readonly change: string;
  readonly salt: string;
  /** HMAC-SHA256(salt, the desired state this plan moves towards). */
  readonly digest: string;
  /** The recorded failure of this same change (same desired state), if there is one. */
  readonly failedBefore?: FailureRecord;
}

/** What a supervisor runs: rendered once from the desired state, the same for all three. */
export interface ServiceSpec {
  /** `livekit`, or `vm-watch` for `vm watch --install-service`. */
  readonly name: string;
  /** systemd unit name or launchd label. */
  readonly label: string;
  readonly binary: string;
  readonly args: readonly string[];
  readonly logFile: string;
  /** unit file or plist; undefined for process. */
  readonly definitionFile: string | undefined;
  readonly pidFile: string;
  readonly autostart: boolean;
}

export type SupervisorVerb = 'reload' | 'enable' | 'disable' | 'start' | 'restart' | 'stop' | 'unload';

export type StepAction =
  | 'install'
  | 'create'
  | 'update'
  | 'daemon-reload'
  | 'enable'
  | 'disable'
  | 'reload'
  | 'start'
  | 'restart'
  | 'stop'
  | 'remove'
  | 'wait-healthy';

/** What apply does for a step. Internal: never serialised, may hold secrets. */
export type Effect =
  | {
      readonly kind: 'install-release';
      readonly version: string;
      readonly baseUrl: string;
      /** A local livekit_X.Y.Z_linux_ARCH.tar.gz with checksums.txt beside it: no network. */
      readonly archive?: string;
      readonly versionsDir: string;
      readonly link: string;
    }
  | { readonly kind: 'install-brew'; readonly upgrade: boolean }
  | { readonly kind: 'install-script'; readonly scriptUrl: string; readonly version: string; readonly versionsDir: string; readonly link: string }
  | {
      readonly kind: 'write-file';
      readonly path: string;
      readonly content: string;
      readonly mode: number;
      readonly dirMode: number;
      /** Keep what is there now as PATH.vm-backup-TIMESTAMP first (a hand edit, or --force). */
      readonly backup?: boolean;
      /** Note the new content's digest in vm's record (stateFile), just before writing it. */
      readonly record?: { readonly stateFile: string; readonly salt: string; readonly digest: string };
    }
  | { readonly kind: 'mkdir'; readonly path: string; readonly mode: number }
  /** Points the active-binary link at an installed version (rollback). */
  | { readonly kind: 'switch-link'; readonly link: string; readonly target: string }
  /** Removes a file, or a directory tree vm owns. Absent is fine. */
  | { readonly kind: 'remove'; readonly path: string }
  | { readonly kind: 'supervise'; readonly supervisor: SupervisorKind; readonly verb: SupervisorVerb; readonly service: ServiceSpec }
  | { readonly kind: 'wait-healthy'; readonly url: string; readonly timeoutMs: number; readonly supervisor: SupervisorKind; readonly service: ServiceSpec };

/** A file change shown to the user as a diff; secrets already redacted. */
export interface FileChange {
  readonly path: string;
  readonly before: string | undefined;
  readonly after: string;
}

export interface Step {
  readonly service: ServiceName;
  readonly resource: ResourceKind;
  readonly action: StepAction;
  /** One line a person can act on, e.g. "config changed: rtc.port_range_end 60000 → 60100". */
  readonly reason: string;
  readonly change?: FileChange;
  readonly effect: Effect;
}

export interface Plan {
  /** The supervisor chosen and why (absent when no service is declared). */
  readonly supervisor?: SupervisorState;
  readonly steps: readonly Step[];
  /** What vm cannot change and the user must (e.g. install.path does not exist). Apply refuses. */
  readonly blockers: readonly string[];
  readonly warnings: readonly string[];
  /** Facts the user should know that are not changes (e.g. "no file found: using the default"). */
  readonly notes: readonly string[];
  /** Internal (never serialised): what apply records if this change fails and is rolled back. */
  readonly attempt?: ChangeAttempt;
}

/** The public, serialisable shape of a plan (`vm plan --json`). */
export interface PlanJson {
  readonly format_version: '1';
  readonly changes: boolean;
  readonly supervisor?: { readonly kind: SupervisorKind | 'unavailable'; readonly why: string };
  readonly steps: ReadonlyArray<{
    readonly service: ServiceName;
    readonly resource: ResourceKind;
    readonly action: StepAction;
    readonly reason: string;
  }>;
  readonly blockers: readonly string[];
  readonly warnings: readonly string[];
  readonly notes: readonly string[];
}
