// desired + observed → the connection a client gets (URL, API key, secret, which server, why).
// One pure decision (resolveConnection) that vm env, exec, token, rooms, status and later the MCP
// server and the web page all share, and one impure wrapper (chooseConnection) that observes the
// local server's health and, only when it is needed, whether the fallback answers.
//
// The rules: `auto` takes the local server when `GET /` answers 200 OK; otherwise the fallback,
// once it has answered within 3 s; otherwise a failure naming both reasons. `local` and
// `fallback` give that server's values whatever its health, with a warning when it is not well.

import { UserError } from '../errors.js';
import type { DesiredState, HealthState, ServiceDesired } from '../model.js';
import { resolveRoots } from '../paths.js';
import type { Host } from '../platform/host.js';
import { observeHealth } from '../resources/health.js';
import type { Answer, ClientAccess, LocalCredentials, RemoteDeclaration, RemoteUrl } from '../services/client-access.js';
import type { ServiceKind } from '../services/contract.js';
import { kindOf } from '../services/registry.js';

export type Target = 'auto' | 'local' | 'fallback';
export const TARGETS: readonly Target[] = ['auto', 'local', 'fallback'];

/** How long the fallback gets to answer before `auto` gives up on it. */
export const FALLBACK_CHECK_MS = 3_000;
const LOCAL_HEALTH_MS = 1_000;

export interface Connection {
  readonly url: string;
  readonly apiKey: string;
  /** Only for the client: never printed by anything but `vm env`. */
  readonly apiSecret: string;
  readonly target: 'local' | 'fallback';
  /** One line: why this server ("local LiveKit is healthy", "local LiveKit not healthy: …; using …"). */
  readonly why: string;
  /** Set when the chosen server is not known to work (an explicit --target to a server that is down). */
  readonly warning?: string;
}

export type ConnectionResult = { readonly ok: true; readonly connection: Connection } | { readonly ok: false; readonly reason: string };

export interface ConnectionInput {
  /** What people call the service: "LiveKit". */
  readonly title: string;
  readonly target: Target;
  readonly local: LocalCredentials;
  /** The local server's health, and where it was asked ("127.0.0.1:7880"); undefined when not asked. */
  readonly localHealth: { readonly state: HealthState; readonly where: string } | undefined;
  readonly fallback: RemoteDeclaration | undefined;
  /** Whether the fallback answered; undefined when it was not asked. */
  readonly fallbackCheck: Answer | undefined;
  /**
   * `--remote`: the local server's URL for the user's other devices (the tailnet), or why there
   * is none. The local server is then handed out with this URL; a fallback keeps its own (it is
   * reachable from anywhere). Undefined: the local URL.
   */
  readonly remote?: RemoteUrl | undefined;
}

/** Whether the local server's health is needed to decide. */
export function needsLocalHealth(target: Target): boolean {
  return target !== 'fallback';
}

/** Whether the fallback must be asked: it is the one to use, or `auto` may have to use it. */
export function needsFallbackCheck(input: Omit<ConnectionInput, 'fallbackCheck'>): boolean {
  if (input.fallback === undefined || !input.fallback.apiSecret.ok) return false;
  if (input.target === 'fallback') return true;
  return input.target === 'auto' && input.localHealth !== undefined && input.localHealth.state.kind !== 'healthy';
}

function describeHealth(h: HealthState, where: string): string {
  switch (h.kind) {
    case 'healthy':
      return `healthy on ${where}`;
    case 'starting':
      return `still starting (GET / answered ${h.status}) on ${where}`;
    case 'unhealthy':
      return h.detail === 'ECONNREFUSED' ? `connection refused on ${where}` : `${h.detail} on ${where}`;
    case 'foreign':
      return `${where} is held by pid ${h.pid} (${h.command}), not by vm's server`;
  }
}

/** The pure decision. Never contains a secret in `why`, `warning` or `reason`. */
export function resolveConnection(input: ConnectionInput): ConnectionResult {
  const { title, local, localHealth, fallback, fallbackCheck } = input;
  const healthy = localHealth?.state.kind === 'healthy';
  const localState = localHealth === undefined ? `local ${title} not checked` : healthy ? `local ${title} is healthy` : `local ${title} not healthy: ${describeHealth(localHealth.state, localHealth.where)}`;
  const remote = input.remote;
  const fromLocal = (why: string, warning?: string): ConnectionResult => {
    if (!local.ok) return { ok: false, reason: local.why };
    if (remote !== undefined && !remote.ok) return { ok: false, reason: `no remote URL for ${title}: ${remote.why}` };
    const url = remote?.ok === true ? remote.url : local.creds.url;
    return { ok: true, connection: { ...local.creds, url, target: 'local', why, ...(warning === undefined ? {} : { warning }) } };
  };
  const fromFallback = (fb: RemoteDeclaration, why: string, warning?: string): ConnectionResult =>
    fb.apiSecret.ok
      ? { ok: true, connection: { url: fb.url, apiKey: fb.apiKey, apiSecret: fb.apiSecret.value, target: 'fallback', why, ...(warning === undefined ? {} : { warning }) } }
      : { ok: false, reason: fb.apiSecret.message };
  switch (input.target) {
    case 'local':
      return healthy ? fromLocal(localState) : fromLocal(localState, `${localState}; giving its values anyway (--target local)`);
    case 'fallback': {
      if (fallback === undefined) return { ok: false, reason: `no fallback declared (services.${title.toLowerCase()}.fallback in the file)` };
      if (fallbackCheck === undefined || fallbackCheck.ok) return fromFallback(fallback, `the fallback ${fallback.url} was asked for (--target fallback)`);
      return fromFallback(fallback, '--target fallback', `the fallback ${fallback.url} does not answer: ${fallbackCheck.why}; giving its values anyway (--target fallback)`);
    }
    case 'auto': {
      if (healthy) return fromLocal(localState);
      if (fallback === undefined) return { ok: false, reason: `${localState}; no fallback declared` };
      if (!fallback.apiSecret.ok) return { ok: false, reason: `${localState}; ${fallback.apiSecret.message}` };
      if (fallbackCheck === undefined) return { ok: false, reason: `${localState}; the fallback ${fallback.url} was not checked` };
      if (!fallbackCheck.ok) return { ok: false, reason: `${localState}; the fallback ${fallback.url} does not answer: ${fallbackCheck.why}` };
      return fromFallback(fallback, `${localState}; using the fallback ${fallback.url} (${fallbackCheck.detail})`);
    }
  }
}

/** A service that has clients, with its kind's client access. */
export interface ClientService {
  readonly desired: ServiceDesired;
  readonly kind: ServiceKind;
  readonly access: ClientAccess<ServiceDesired, never>;
  readonly title: string;
}

/** The named service, or the first declared one that has clients; a UserError when there is none. */
export function clientService(desired: DesiredState, name: string | undefined): ClientService {
  const all = Object.values(desired.services);
  const d = name === undefined ? all.find((s) => kindOf(s).clients !== undefined) : desired.services[name];
  if (d === undefined) {
    throw new UserError('USAGE', name === undefined ? 'no service in the file has client credentials (declare services.livekit)' : `no service named ${JSON.stringify(name)} in the file`);
  }
  const kind = kindOf(d);
  if (kind.clients === undefined) throw new UserError('USAGE', `${d.name} has no API keys for clients: vm env, exec, token and rooms are for LiveKit`);
  return { desired: d, kind, access: kind.clients as ClientAccess<ServiceDesired, never>, title: kind.title(d.name) };
}

/** Observes what the decision needs (nothing more) and makes it. Throws UserError('NO_CONNECTION'). */
export async function chooseConnection(
  host: Host,
  desired: DesiredState,
  target: Target,
  service?: string,
  opts: { readonly remote?: boolean } = {},
): Promise<Connection & { readonly access: ClientAccess<ServiceDesired, never> }> {
  const s = clientService(desired, service);
  if (opts.remote === true && s.access.remoteUrl === undefined) throw new UserError('USAGE', `${s.title} has no remote URL (--remote)`);
  const paths = s.kind.paths(resolveRoots(host.env), s.desired.name, s.desired);
  const health = s.access.health(s.desired);
  const [local, state, remote] = await Promise.all([
    s.access.local(host, s.desired, paths as never),
    needsLocalHealth(target) ? observeHealth(host, health.url, health.check, LOCAL_HEALTH_MS) : Promise.resolve(undefined),
    opts.remote === true && target !== 'fallback' ? s.access.remoteUrl?.(host, s.desired) : Promise.resolve(undefined),
  ]);
  const input = {
    title: s.title,
    target,
    local,
    localHealth: state === undefined ? undefined : { state, where: new URL(health.url).host },
    fallback: s.access.fallback(s.desired),
  };
  const fb = input.fallback;
  const fallbackCheck = needsFallbackCheck(input) && fb !== undefined && fb.apiSecret.ok ? await s.access.probe(host, { url: fb.url, apiKey: fb.apiKey, apiSecret: fb.apiSecret.value }, FALLBACK_CHECK_MS) : undefined;
  const r = resolveConnection({ ...input, fallbackCheck, remote });
  if (!r.ok) throw new UserError('NO_CONNECTION', r.reason);
  return { ...r.connection, access: s.access };
}

/** What a front end shows of a connection: the secret only when asked for (the MCP tool's `include_secret`). */
export interface ConnectionJson {
  readonly url: string;
  readonly api_key: string;
  readonly target: 'local' | 'fallback';
  readonly why: string;
  readonly warning?: string;
  readonly api_secret?: string;
}

export async function connectionInfo(host: Host, desired: DesiredState, target: Target, opts: { readonly includeSecret?: boolean; readonly service?: string } = {}): Promise<ConnectionJson> {
  const c = await chooseConnection(host, desired, target, opts.service);
  return {
    url: c.url,
    api_key: c.apiKey,
    target: c.target,
    why: c.why,
    ...(c.warning === undefined ? {} : { warning: c.warning }),
    ...(opts.includeSecret === true ? { api_secret: c.apiSecret } : {}),
  };
}
