// The host port: every side effect vm has goes through this narrow interface (file system,
// processes, HTTP, clock). The planner never sees it; observe and apply receive it.
// Tests use the real implementation (src/platform/node-host.ts) against a temp HOME.

import type { FileState } from '../model.js';

export interface ExecResult {
  /** Exit code; 127 when the program could not be started (ENOENT/EACCES). */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the program could not be started or was killed by the timeout. */
  readonly error?: string;
}

export type HttpResult =
  /** `location` is set on redirects, which are reported, never followed. */
  | { readonly ok: true; readonly status: number; readonly body: string; readonly location?: string }
  | { readonly ok: false; readonly error: string };

export type TcpResult = { readonly ok: true; readonly received: string } | { readonly ok: false; readonly error: string };

export interface PathStat {
  readonly kind: 'file' | 'dir' | 'other';
  readonly mode: number;
  /** The later of the path's own mtime (a symlink's) and its target's. */
  readonly mtimeMs: number;
  /** The target's size and inode: with mtimeMs, what tells an unchanged file. */
  readonly size: number;
  readonly ino: number;
}

export interface Host {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly platform: NodeJS.Platform;
  readonly arch: string;

  /** Reads a file. A missing file is `{ exists: false }`, not an error. */
  readFile(path: string): Promise<FileState>;
  /** Follows symlinks. Undefined when absent. `mode` is the permission bits only. */
  stat(path: string): Promise<PathStat | undefined>;
  /**
   * Writes atomically: a temp file in the same directory, fsync, final mode set, rename.
   * Creates missing parent directories with `dirMode` (and tightens an existing parent to it).
   */
  writeFileAtomic(path: string, content: string, mode: number, dirMode: number): Promise<void>;
  mkdirp(path: string, mode: number): Promise<void>;
  /** A symlink's target, or undefined when the path is absent or not a link. */
  readlink(path: string): Promise<string | undefined>;
  /** Entry names of a directory, or [] when it is absent. */
  readdir(path: string): Promise<string[]>;
  /** Removes a file or a whole directory tree; absent is fine. */
  remove(path: string): Promise<void>;
  /**
   * Last `maxLines` lines of a text file, or [] when it is absent. With `fromByte`, only lines
   * written after that offset (the whole file when it is now shorter: it was rotated meanwhile).
   */
  tail(path: string, maxLines: number, fromByte?: number): Promise<string[]>;

  /** Runs a program without a shell. Never throws for a non-zero exit. */
  exec(
    file: string,
    args: readonly string[],
    opts?: { readonly timeoutMs?: number; readonly env?: Record<string, string | undefined> },
  ): Promise<ExecResult>;

  /**
   * Properties of a systemd user unit, read from the user manager's private D-Bus socket, in
   * `systemctl show` form. Undefined when that socket does not answer them all (then ask
   * `systemctl --user show`, which also says why). Never throws.
   */
  systemdUnitProperties(unit: string, props: readonly string[]): Promise<ReadonlyMap<string, string> | undefined>;

  /** One HTTP(S) GET, redirects not followed; never throws. */
  httpGet(url: string, timeoutMs: number): Promise<HttpResult>;

  /**
   * One request/answer exchange over a TCP (or TLS) connection: writes `request`, reads until
   * `done(received)` says the answer is complete, then closes. Never throws. Redis PING uses it
   * (src/resources/redis-ping.ts): no client library.
   */
  tcpExchange(address: { readonly host: string; readonly port: number; readonly tls?: boolean }, request: string, done: (received: string) => boolean, timeoutMs: number): Promise<TcpResult>;

  /**
   * The addresses of this machine's network interfaces (os.networkInterfaces()), to tell a bind
   * address LiveKit can listen on from one it cannot ("cannot assign requested address").
   */
  interfaceAddresses(): readonly InterfaceAddress[];

  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface InterfaceAddress {
  readonly address: string;
  /** "127.0.0.1/8"; null when the system does not say. */
  readonly cidr: string | null;
  /** A loopback interface. */
  readonly internal: boolean;
}
