// The vocabulary of vm, as types only. Nothing here performs I/O.
//
//   desired   what voicemode.services.yaml declares, normalised (defaults filled, durations parsed)
//   observed  what is on the machine right now; "absent" is a value, never an exception
//   step      one change that would move observed towards desired, with a one-line reason
//   plan      the ordered steps (empty when converged) plus warnings
//   converged a fresh plan has no steps

export type ServiceName = 'livekit';

/** The resources vm manages for a service, in the order they are planned. */
export type ResourceKind = 'binary' | 'config' | 'unit' | 'running' | 'healthy';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Where the desired state came from. `default` means no file was found. */
export type SpecSource =
  | { kind: 'file'; path: string; via: 'flag' | 'env' | 'search' | 'xdg' }
  | { kind: 'default' };

export type InstallMethod =
  | { method: 'release'; baseUrl: string }
  | { method: 'path'; path: string };

/**
 * API keys. `generated` means the file declared none: vm creates one `devkey` with a random
 * secret once and keeps it in the key file, so it never changes between applies.
 */
export type KeysSpec =
  | { kind: 'declared'; entries: Readonly<Record<string, string>> }
  | { kind: 'generated'; apiKey: string };

export interface LiveKitDesired {
  readonly name: 'livekit';
  readonly state: 'running';
  readonly autostart: boolean;
  /** Exact X.Y.Z; '' only with install.path and no version declared (not pinned). */
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
  readonly logging: { readonly level: LogLevel };
  readonly health: { readonly timeoutMs: number };
}

export interface DesiredState {
  readonly source: SpecSource;
  readonly supervisor: 'auto' | 'systemd';
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
  | { readonly kind: 'present'; readonly path: string; readonly version: string; readonly mtimeMs: number };

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

export type SupervisorState =
  | { readonly kind: 'systemd'; readonly why: string }
  | { readonly kind: 'unavailable'; readonly why: string };

export interface LiveKitObserved {
  /** Which service manager answered (the same `systemctl --user show` call that reads the unit). */
  readonly supervisor: SupervisorState;
  readonly binary: BinaryState;
  readonly config: FileState;
  readonly keyFile: FileState;
  readonly keyDirMode: number | undefined;
  /** systemd does not create the directory of an `append:` log path; a missing one fails the start. */
  readonly logDirMode: number | undefined;
  readonly unitFile: FileState;
  /**
   * Whether the unit is enabled, read from its default.target.wants link. systemd's own
   * UnitFileState is cached: after `systemctl --user disable` of a running unit, `show` kept
   * saying `enabled` while `is-enabled` said `disabled` (systemd 252, seen in our tests).
   */
  readonly enabled: boolean;
  /** undefined when the supervisor could not be asked. */
  readonly unit: UnitState | undefined;
  readonly health: HealthState;
}

export type StepAction =
  | 'install'
  | 'create'
  | 'update'
  | 'daemon-reload'
  | 'enable'
  | 'disable'
  | 'start'
  | 'restart'
  | 'wait-healthy';

/** What apply does for a step. Internal: never serialised, may hold secrets. */
export type Effect =
  | {
      readonly kind: 'install-release';
      readonly version: string;
      readonly baseUrl: string;
      readonly versionsDir: string;
      readonly link: string;
    }
  | {
      readonly kind: 'write-file';
      readonly path: string;
      readonly content: string;
      readonly mode: number;
      readonly dirMode: number;
    }
  | { readonly kind: 'mkdir'; readonly path: string; readonly mode: number }
  | { readonly kind: 'systemctl'; readonly verb: 'daemon-reload' | 'enable' | 'disable' | 'start' | 'restart'; readonly unit: string }
  | { readonly kind: 'wait-healthy'; readonly url: string; readonly timeoutMs: number; readonly unit: string };

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
  readonly steps: readonly Step[];
  /** What vm cannot change and the user must (e.g. install.path does not exist). Apply refuses. */
  readonly blockers: readonly string[];
  readonly warnings: readonly string[];
  /** Facts the user should know that are not changes (e.g. "no file found: using the default"). */
  readonly notes: readonly string[];
}

/** The public, serialisable shape of a plan (`vm plan --json`). */
export interface PlanJson {
  readonly format_version: '1';
  readonly changes: boolean;
  readonly steps: ReadonlyArray<{
    readonly service: ServiceName;
    readonly resource: ResourceKind;
    readonly action: StepAction;
    readonly reason: string;
  }>;
  readonly blockers: readonly string[];
  readonly warnings: readonly string[];
}
