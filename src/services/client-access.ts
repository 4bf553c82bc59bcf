// What a kind offers the clients that connect to it (LiveKit: a URL, an API key and its secret,
// tokens minted from them, a room API that proves the keys). Types only; a kind that has clients
// implements ClientAccess (src/services/livekit/connection.ts) and the operations layer
// (src/ops/connection.ts, src/ops/client-status.ts) uses it without naming the kind.

import type { HealthCheck, SecretResult } from '../model.js';
import type { Host } from '../platform/host.js';

/** What a client connects with. Holds a secret: never logged, never in argv. */
export interface Credentials {
  readonly url: string;
  readonly apiKey: string;
  readonly apiSecret: string;
}

/** The local server's values; `secret` is why it cannot be had (no generated key file yet). */
export type LocalCredentials =
  | { readonly ok: true; readonly creds: Credentials }
  | { readonly ok: false; readonly url: string; readonly apiKey: string; readonly why: string };

/** A remote server the file declares for when the local one is not healthy. */
export interface RemoteDeclaration {
  readonly url: string;
  readonly apiKey: string;
  readonly apiSecret: SecretResult;
}

export type RemoteUrl = { readonly ok: true; readonly url: string } | { readonly ok: false; readonly why: string };

export type Answer = { readonly ok: true; readonly detail: string } | { readonly ok: false; readonly why: string };

export interface RoomInfo {
  readonly name: string;
  readonly sid: string;
  readonly participants: number;
  /** Seconds since the epoch; 0 when the server did not say. */
  readonly createdAt: number;
}

export interface TokenRequest {
  readonly identity: string;
  readonly name: string | undefined;
  readonly room: string | undefined;
  readonly ttlSeconds: number;
  readonly grants: readonly string[];
}

export interface ClientAccess<D, P> {
  /** The environment variables a client reads, in order: URL, API key, API secret. */
  readonly envNames: readonly [string, string, string];
  /** Every grant a token may carry, and the default set. */
  readonly grants: readonly string[];
  readonly defaultGrants: readonly string[];
  /** Grants that need a room named in the token. */
  readonly roomGrants: readonly string[];
  /** How the local server's health is asked. */
  health(d: D): { readonly url: string; readonly check: HealthCheck };
  local(host: Host, d: D, paths: P): Promise<LocalCredentials>;
  fallback(d: D): RemoteDeclaration | undefined;
  /**
   * The local server's URL for the user's other devices (LiveKit: over the tailnet), or why
   * there is none; observes what it needs (tailscale status). Absent: the kind has no such URL.
   */
  remoteUrl?(host: Host, d: D): Promise<RemoteUrl>;
  /** Whether a server answers these credentials (its room API; else `GET /` → 200), within timeoutMs. */
  probe(host: Host, creds: Credentials, timeoutMs: number): Promise<Answer>;
  /** The room API with these credentials: `keys accepted (N rooms)` or the server's reason. */
  checkApi(creds: Credentials, timeoutMs: number): Promise<Answer & { readonly rooms?: number }>;
  /** A short-lived join token checked by the server's token endpoint. */
  checkToken(host: Host, creds: Credentials, timeoutMs: number): Promise<Answer>;
  listRooms(creds: Credentials, timeoutMs: number): Promise<{ readonly ok: true; readonly rooms: readonly RoomInfo[] } | { readonly ok: false; readonly why: string }>;
  mintToken(creds: Credentials, req: TokenRequest): Promise<string>;
}
