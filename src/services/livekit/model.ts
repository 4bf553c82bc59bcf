// LiveKit's part of vm's vocabulary (types only): what its entry declares, what is observed of
// it and where its files are. It adds itself to the ServiceKinds of src/model.ts.

import type { BinaryState, FileState, HealthState, LogLevel, RuntimeState, SecretResult, ServeRecord, ServeState, ServiceDesiredBase, ServicePaths, SupervisorState, TailnetState, WrittenRecord } from '../../model.js';

export type InstallMethod =
  /** GitHub release (or a mirror), checksum verified; `archive` installs a local tarball offline. */
  | { method: 'release'; baseUrl: string; archive?: string }
  /** An existing binary vm never modifies or removes. */
  | { method: 'path'; path: string }
  /** Homebrew's `livekit` formula; the binary is found from `brew --prefix`. */
  | { method: 'brew' }
  /** The official install script, with INSTALL_PATH set to vm's directory. Checks no checksum. */
  | { method: 'script'; scriptUrl: string };

/**
 * API keys. `generated` means the file declared none: vm creates one `devkey` with a random
 * secret once and keeps it in the key file, so it never changes between applies.
 */
export type KeysSpec =
  | { kind: 'declared'; entries: Readonly<Record<string, string>> }
  | { kind: 'generated'; apiKey: string };

export interface LiveKitDesired extends ServiceDesiredBase {
  readonly kind: 'livekit';
  /** LiveKit's development mode (`development: true`): serves /debug/pprof; refused beyond loopback. */
  readonly dev: boolean;
  /**
   * Exact X.Y.Z, or 'latest' (resolved when observing, from `{base_url}/latest`); '' only when
   * no version is declared and none is needed: the binary is not vm's to pin (install.path,
   * brew, script), or the state is absent (nothing is installed).
   */
  readonly version: string;
  readonly install: InstallMethod;
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
  /** A remote LiveKit (LiveKit Cloud) that clients are handed when this one is not healthy. */
  readonly fallback?: LiveKitFallback;
  /** `expose:` in the file; absent when it exposes nothing (the tailnet is then never asked). */
  readonly expose?: LiveKitExpose;
  /** LiveKit's multi-node mode: the Redis every node shares (its config's redis: block). */
  readonly redis?: LiveKitRedis;
  /** This node's region (LiveKit's region key). */
  readonly region?: string;
}

/** services.livekit.expose: reach LiveKit from the user's other devices over Tailscale. */
export interface LiveKitExpose {
  /** Also listen on this machine's tailnet IPv4, and advertise it as rtc.node_ip. */
  readonly tailscale: boolean;
  /** A `tailscale serve` TLS endpoint on httpsPort forwarding to LiveKit's HTTP port (wss://). */
  readonly https: boolean;
  readonly httpsPort: number;
}

/** services.livekit.redis, the password resolved (it goes only into the 0600 config file). */
export interface LiveKitRedis {
  /** host:port */
  readonly address: string;
  readonly username?: string;
  readonly password?: string;
  readonly db: number;
  readonly tls: boolean;
}

/** services.livekit.fallback. vm never manages it; it only checks that it answers. */
export interface LiveKitFallback {
  /** As clients are given it: `https://` shown as `wss://`. */
  readonly url: string;
  readonly apiKey: string;
  readonly apiSecret: SecretResult;
}

/** LiveKit's own files besides the common ones. */
export interface LiveKitPaths extends ServicePaths {
  /** Where release installs keep each version: dir/versions/X.Y.Z/livekit-server */
  readonly versionsDir: string;
  /** The binary the unit runs: the managed one (a link to the active version) or install.path. */
  readonly binary: string;
  readonly config: string;
  readonly keyFile: string;
  /** vm's record of the `tailscale serve` endpoint it made (expose.https). */
  readonly serveRecord: string;
}

export interface LiveKitObserved {
  readonly kind: 'livekit';
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
  /** Who listens on LiveKit's port when that is not vm's LiveKit (Linux; unknown elsewhere). */
  readonly portHolder?: { readonly pid: number; readonly command: string } | undefined;
  /** The same for rtc.tcp_port: LiveKit exits 0 with "address already in use" when it is taken. */
  readonly rtcPortHolder?: { readonly pid: number; readonly command: string } | undefined;
  /**
   * Where this machine can listen: each interface address, and on Linux a loopback interface's
   * whole subnet as a CIDR (all of 127.0.0.0/8 is local there). Undefined when not observed.
   */
  readonly localAddresses?: readonly string[] | undefined;
  readonly health: HealthState;
  /** Only when the file declares `expose` (tailscale or https): this machine on its tailnet. */
  readonly tailnet?: TailnetState;
  /** `tailscale serve status --json`: only when https is wanted or vm's record names an endpoint. */
  readonly serve?: ServeState;
  /** The endpoint vm made (its record); undefined when none. */
  readonly serveRecord?: ServeRecord | undefined;
  /** With redis: declared: whether it answers PING (with AUTH); an observation, planned as a blocker. */
  readonly redis?: { readonly ok: true } | { readonly ok: false; readonly error: string };
}

declare module '../../model.js' {
  interface ServiceKinds {
    livekit: { readonly desired: LiveKitDesired; readonly observed: LiveKitObserved };
  }
}
