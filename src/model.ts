// The vocabulary of vm, as types only. Nothing here performs I/O.
//
//   desired   what voicemode.services.yaml declares, normalised (defaults filled, durations parsed)
//   observed  what is on the machine right now; "absent" is a value, never an exception
//   step      one change that would move observed towards desired, with a one-line reason
//   plan      the ordered steps (empty when converged) plus warnings
//   converged a fresh plan has no steps

/** A key under `services:` in the file: `livekit`, `whisper`, `kokoro`, `my-llm`, … */
export type ServiceName = string;

/**
 * What each kind of service brings to this vocabulary, by kind name: the desired state of its
 * entry and what is observed of it. Empty here: each kind adds its own entry from its folder
 * (src/services/KIND/model.ts: `declare module '../../model.js' { interface ServiceKinds … }`),
 * so a new kind is named nowhere outside it but in the registry (src/services/registry.ts).
 */
export interface ServiceKinds {}

/** The kinds of service vm knows (src/services/registry.ts). */
export type KindName = keyof ServiceKinds & string;

/** One service's desired state, of whichever kind (the kind's own type says which fields). */
export type ServiceDesired = ServiceKinds[KindName]['desired'];

/** What is on the machine for one service, of whichever kind. */
export type ServiceObserved = ServiceKinds[KindName]['observed'];

/**
 * The resources vm manages for a service, in the order they are planned. `unit` is the
 * supervisor's definition (systemd unit, launchd plist; none for a plain process); `data` is
 * what only `remove_data: true` deletes (logs); `client` is a fragment vm keeps in a client's
 * config file (`clients:` in the file); `expose` is a `tailscale serve` endpoint vm made
 * (`expose.https`).
 */
export type ResourceKind = 'binary' | 'model' | 'config' | 'unit' | 'running' | 'healthy' | 'data' | 'client' | 'expose';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Where the desired state came from. `default` means no file was found. */
export type SpecSource =
  | { kind: 'file'; path: string; via: 'flag' | 'env' | 'search' | 'xdg' }
  | { kind: 'default' };

export type ServiceState = 'running' | 'stopped' | 'absent';
export type SupervisorKind = 'systemd' | 'launchd' | 'process';

/** What every kind of service declares. */
export interface ServiceDesiredBase {
  /** Its key under `services:`; also its unit (`voicemode-NAME.service`) and log directory. */
  readonly name: ServiceName;
  readonly kind: KindName;
  readonly state: ServiceState;
  /** Start at login. Defaults to true when running, false when stopped. */
  readonly autostart: boolean;
  /** With state absent: remove the logs (and whatever vm downloaded for it) too. */
  readonly removeData: boolean;
  readonly port: number;
  readonly bindAddresses: readonly string[];
  readonly logging: { readonly maxBytes: number };
  readonly health: { readonly timeoutMs: number };
}

/**
 * This machine on its tailnet, from `tailscale status --json` (src/facts/tailnet.ts). Every way
 * of not being on the tailnet is a value with its reason and the fix, never an exception.
 */
export type TailnetState =
  | {
      readonly kind: 'running';
      /** The CLI that answered (PATH, or the macOS app's bundled one). */
      readonly binary: string;
      readonly ipv4: string;
      /** Self.DNSName without its trailing dot; undefined when MagicDNS is off. */
      readonly dnsName: string | undefined;
    }
  | {
      readonly kind: 'down';
      readonly binary: string | undefined;
      /** `not-installed`, `no-daemon`, `unreadable`, or tailscale's BackendState (NeedsLogin, Stopped, …). */
      readonly state: string;
      /** "tailscale says NeedsLogin", "tailscale is not installed". */
      readonly why: string;
      /** "run `tailscale up`". */
      readonly fix: string;
    };

/** One TCP port of `tailscale serve status --json` (ipn.TCPPortHandler), as far as vm reads it. */
export interface ServeHandler {
  /** host:port the connections go to (TCPForward). */
  readonly forward: string | undefined;
  /** Set when tailscale terminates TLS (TerminateTLS: the name of the certificate). */
  readonly terminateTls: string | undefined;
  /** An HTTP(S) web handler rather than a TCP forwarder. */
  readonly web: boolean;
}

export type ServeState = { readonly ok: true; readonly tcp: Readonly<Record<string, ServeHandler>> } | { readonly ok: false; readonly why: string };

/** What vm remembers of the `tailscale serve` endpoint it made ($VOICEMODE_HOME/state/tailscale-serve-NAME.json). */
export interface ServeRecord {
  readonly port: number;
  readonly target: string;
}

/** A secret that is read only when it is used: its value, or why it cannot be had (no secret in it). */
export type SecretResult = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly message: string };

export interface DesiredState {
  readonly source: SpecSource;
  /** Other files the desired state was read from (secret files), for `vm watch`. */
  readonly inputs?: readonly string[];
  /** The environment variables `{ env: NAME }` secrets are read from (no values). */
  readonly secretEnv?: readonly string[];
  readonly supervisor: 'auto' | SupervisorKind;
  /** By name, in the file's order (names start with a letter, so the order is kept). */
  readonly services: Readonly<Record<ServiceName, ServiceDesired>>;
  /** Client config files vm keeps in step with the services (`clients:`); absent: none. */
  readonly clients?: ClientsDesired;
  /** With `hosts:` in the file: the host name matched, and the entries applied (file order). */
  readonly host?: { readonly name: string; readonly applied: readonly string[] };
}

/** `clients:` in the file, `~` expanded. Each is optional. */
export interface ClientsDesired {
  /** A dotenv file (Voice Mode's voicemode.env) that gets a marked block of connection values. */
  readonly envFile?: string;
  /** A project entry in lk's config file (`~/.livekit/cli-config.yaml`). */
  readonly lkProject?: { readonly name: string; readonly configFile: string };
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

/** Where vm keeps things for one service (every kind). Computed from the environment. */
export interface ServicePaths {
  /** $VOICEMODE_HOME/services/NAME */
  readonly dir: string;
  readonly unitName: string;
  readonly unitFile: string;
  /** The link `systemctl enable` creates (WantedBy=default.target); its presence is "enabled". */
  readonly wantsLink: string;
  /** launchd: label and LaunchAgent plist. */
  readonly launchdLabel: string;
  readonly plistFile: string;
  /** process supervisor: where the PID of the running service is kept. */
  readonly pidFile: string;
  /** vm's record of what it wrote ($VOICEMODE_HOME/state/written.json). */
  readonly writtenRecord: string;
  /** What each binary answered to `--version`, per file ($VOICEMODE_HOME/state/versions.json). */
  readonly versionRecord: string;
  /** The service's last change that failed and was rolled back ($VOICEMODE_HOME/state/failed-NAME.json). */
  readonly failureRecord: string;
  readonly logDir: string;
  readonly logFile: string;
}

/** The directories everything else is derived from. */
export interface Roots {
  readonly home: string;
  readonly voicemodeHome: string;
  readonly xdgConfigHome: string;
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
  /** It answers its check's `starting` status (LiveKit's 406, whisper's 503; Redis's LOADING: 0). */
  | { readonly kind: 'starting'; readonly status: number }
  | { readonly kind: 'unhealthy'; readonly detail: string }
  /**
   * Something answers on the port, but it is not vm's process (nor a child of it): another
   * LiveKit answers `OK` just as well. Never counts as healthy. pid 0: a process vm cannot inspect.
   */
  | { readonly kind: 'foreign'; readonly pid: number; readonly command: string };

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

/** A file or directory vm does not manage but needs (a program, a checkout, a model). */
export type PathPresence =
  | { readonly exists: false }
  | { readonly exists: true; readonly kind: 'file' | 'dir' | 'other'; readonly executable: boolean; readonly mtimeMs: number; readonly size: number };

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
 * A change that failed and was rolled back, kept in $VOICEMODE_HOME/state/failed-NAME.json until an
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
  /** `livekit`, `whisper`, …, or `vm-watch` for `vm watch --install-service`. */
  readonly name: string;
  /** What people call it in messages ("LiveKit"); the name when not set. */
  readonly title?: string;
  /** systemd unit name or launchd label. */
  readonly label: string;
  readonly binary: string;
  readonly args: readonly string[];
  readonly logFile: string;
  /** unit file or plist; undefined for process. */
  readonly definitionFile: string | undefined;
  readonly pidFile: string;
  readonly autostart: boolean;
  /** Added to the environment the supervisor gives the program (never a secret). */
  readonly env?: Readonly<Record<string, string>>;
  /** Where it runs; the log directory when not set. */
  readonly workingDir?: string;
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
  | { readonly kind: 'install-brew'; readonly formula: string; readonly upgrade: boolean }
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
  | {
      /** Replaces (or removes) one fragment of a file the user also edits, re-read at apply time. */
      readonly kind: 'write-fragment';
      readonly path: string;
      readonly edit: FragmentEdit;
      readonly mode: number;
      /** The directory's mode when vm creates it; an existing one is tightened only with `tightenDir`. */
      readonly dirMode: number;
      readonly tightenDir: boolean;
      /** Keep the whole file as PATH.vm-backup-TIMESTAMP first (a hand edit inside the fragment). */
      readonly backup?: boolean;
      /** Note (or, with digest undefined, forget) the fragment's digest in vm's record first. */
      readonly record: { readonly stateFile: string; readonly salt: string; readonly key: string; readonly digest: string | undefined };
    }
  | { readonly kind: 'mkdir'; readonly path: string; readonly mode: number }
  /** Points the active-binary link at an installed version (rollback). */
  | { readonly kind: 'switch-link'; readonly link: string; readonly target: string }
  /** Removes a file, or a directory tree vm owns. Absent is fine. */
  | { readonly kind: 'remove'; readonly path: string }
  | { readonly kind: 'supervise'; readonly supervisor: SupervisorKind; readonly verb: SupervisorVerb; readonly service: ServiceSpec }
  /**
   * `tailscale serve --bg --yes --tls-terminated-tcp=PORT tcp://TARGET` (on) or `… PORT off`,
   * then vm's record of it written (on) or removed (off).
   */
  | {
      readonly kind: 'tailscale-serve';
      readonly binary: string;
      readonly verb: 'on' | 'off';
      readonly port: number;
      readonly target: string;
      readonly record: string;
      /** off: an endpoint that is not there is fine (a rollback of an `on` that may have failed). */
      readonly absentOk?: boolean;
    }
  /** Downloads a file (a whisper model), checks its sha256, and only then moves it into place. */
  | { readonly kind: 'download'; readonly url: string; readonly sha256: string; readonly path: string; readonly label: string }
  | {
      readonly kind: 'wait-healthy';
      readonly url: string;
      /** How the answer is read. */
      readonly check: HealthCheck;
      readonly timeoutMs: number;
      readonly supervisor: SupervisorKind;
      readonly service: ServiceSpec;
      /** protocol resp: where to PING and with which password (internal: never shown). */
      readonly resp?: { readonly address: string; readonly password?: string | undefined };
    };

/**
 * How a service's health is asked (src/resources/health.ts), as its kind chooses: an HTTP GET
 * (healthy: 2xx, or 200 with exactly `body`; `starting`: the status it answers while it gets
 * ready), or Redis's PING over RESP.
 */
export type HealthCheck = { readonly protocol: 'http'; readonly body?: string; readonly starting: number } | { readonly protocol: 'resp' };

/**
 * Which fragment of a file, and what it should hold (`value` undefined: remove it). Pure data: apply
 * re-reads the file and edits only this (src/resources/managed-fragment.ts).
 *   marked-block  lines between `# >>> vm: NAME >>>` and `# <<< vm: NAME <<<` (a dotenv file)
 *   yaml-entry    the item of the top-level list `list` whose `nameKey` is `name` (lk's projects);
 *                 `defaultKey` is set to `name` when the document has none
 */
export type FragmentEdit =
  | { readonly format: 'marked-block'; readonly name: string; readonly value: string | undefined }
  | {
      readonly format: 'yaml-entry';
      readonly list: string;
      readonly nameKey: string;
      readonly name: string;
      readonly defaultKey?: string;
      /** The entry's keys vm manages: only they are compared (a key the user adds is theirs). */
      readonly fields: readonly string[];
      readonly value: Readonly<Record<string, string>> | undefined;
    };

/** Which fragment, without what it should hold: how vm's record names it. */
export type FragmentLocator = FragmentEdit extends infer E ? (E extends FragmentEdit ? Omit<E, 'value'> : never) : never;

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
