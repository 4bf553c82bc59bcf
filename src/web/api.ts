// What the page's /api answers, built from the operations layer only: `GET /api/status` is `vm
// status`'s observation (ops/status.ts) plus the connection `vm env --target auto` would choose
// (ops/connection.ts); `POST /api/token` is `vm token` (ops/token.ts) for a test room. Nothing
// here ever returns a secret: a connection is reduced to its URL, key name, target and reason.

import { randomBytes } from 'node:crypto';
import { formatProblem, UserError } from '../errors.js';
import type { DesiredState } from '../model.js';
import { chooseConnection, clientService, type ClientService } from '../ops/connection.js';
import { statusReport } from '../ops/status.js';
import { parseTokenRequest } from '../ops/token.js';
import { resolveRoots } from '../paths.js';
import type { Host } from '../platform/host.js';
import type { ReadableDesired } from '../spec/load.js';

export const DEFAULT_ROOM = 'vm-web-test';
const TOKEN_TTL = '1h';

export interface WebContext {
  readonly host: Host;
  /** The file, read afresh on every call (an edit and `vm apply` show on the next refresh). */
  load(): Promise<ReadableDesired>;
  /** The same, refusing unreadable secrets (as `vm token` does). */
  loadStrict(): Promise<DesiredState>;
  /** For the default identity, as `vm token`'s. */
  readonly user: string;
  /** Rewrites "`vm …`" to the command that works here (the CLI's hinter). */
  readonly hint: (s: string) => string;
}

export type LocalState = 'healthy' | 'starting' | 'down';

function findService(desired: DesiredState): { ok: true; s: ClientService } | { ok: false; why: string } {
  try {
    return { ok: true, s: clientService(desired, undefined) };
  } catch (e) {
    if (e instanceof UserError) return { ok: false, why: e.message };
    throw e;
  }
}

export async function webStatus(ctx: WebContext): Promise<Record<string, unknown>> {
  const { desired, secretProblems } = await ctx.load();
  const found = findService(desired);
  const secretsOk = secretProblems.length === 0;
  const [report, conn] = await Promise.all([
    statusReport(ctx.host, { desired, secretProblems }),
    found.ok && secretsOk ? chooseConnection(ctx.host, desired, 'auto', found.s.desired.name).then((c) => ({ ok: true as const, c }), (e: unknown) => failure(e)) : undefined,
  ]);
  const file = desired.source.kind === 'file' ? desired.source.path : null;
  if (!found.ok) return { format_version: '1', file, service: null, local: null, fallback: null, livekit_urls: [], connection: { ok: false, reason: found.why, todo: 'declare services.livekit in the file' }, status: report.json };
  const s = found.s;
  const snap = report.snap.services.find((x) => x.name === s.desired.name);
  const view = (report.views.find((v) => v.name === s.desired.name)?.view.json ?? {}) as Record<string, unknown>;
  const api = (view['api'] ?? null) as Record<string, unknown> | null;
  const binary = (view['binary'] ?? null) as Record<string, unknown> | null;
  const running = (view['running'] ?? null) as Record<string, unknown> | null;
  const health = snap?.observed.health;
  const state: LocalState = health?.kind === 'healthy' ? 'healthy' : health?.kind === 'starting' ? 'starting' : 'down';
  const fallbackDecl = s.access.fallback(s.desired);
  const local = {
    state,
    detail: health === undefined ? 'not observed' : health.kind === 'healthy' ? `GET / answered 200 OK` : health.kind === 'starting' ? `still starting: GET / answered ${health.status}` : health.kind === 'unhealthy' ? (health.detail === 'ECONNREFUSED' ? `connection refused on ${hostOf(String(api?.['url'] ?? ''))}` : health.detail) : `the port is held by ${health.command} (pid ${health.pid}), not by vm's ${s.title}`,
    declared_state: s.desired.state,
    running: running?.['active'] === true,
    pid: running?.['pid'] ?? null,
    version: binary?.['version'] ?? null,
    url: api?.['url'] ?? (await localUrl(ctx.host, s)),
    api_key: api?.['api_key'] ?? null,
    api: api?.['detail'] ?? null,
    token: api?.['token_detail'] ?? null,
  };
  const fb = (view['fallback'] ?? null) as Record<string, unknown> | null;
  let connection: Record<string, unknown>;
  if (!secretsOk) {
    connection = { ok: false, reason: secretProblems.map(formatProblem).join('; '), todo: 'fix the file: a secret it names cannot be read' };
  } else if (conn === undefined || !conn.ok) {
    connection = { ok: false, reason: conn?.why ?? 'not checked', todo: ctx.hint(todo(s, fallbackDecl !== undefined)) };
  } else {
    const c = conn.c;
    // Field by field: the secret stays behind.
    connection = { ok: true, target: c.target, url: c.url, api_key: c.apiKey, why: c.why, ...(c.warning === undefined ? {} : { warning: c.warning }) };
  }
  const livekitUrlsInUse = [String(local.url), ...(fallbackDecl === undefined ? [] : [fallbackDecl.url])];
  return { format_version: '1', file, service: s.desired.name, title: s.title, local, fallback: fb, connection, livekit_urls: livekitUrlsInUse, status: report.json };
}

function todo(s: ClientService, hasFallback: boolean): string {
  const orFallback = hasFallback ? '' : `, or declare a fallback (services.${s.desired.name}.fallback) for when it is down`;
  if (s.desired.state !== 'running') return `the file says state: ${s.desired.state}: set it to running and run \`vm apply\`${orFallback}`;
  return `run \`vm apply\` to start the local ${s.title} (\`vm status\` says what is wrong)${orFallback}`;
}

function failure(e: unknown): { ok: false; why: string } {
  if (e instanceof UserError) return { ok: false, why: e.message };
  throw e;
}

async function localUrl(host: Host, s: ClientService): Promise<string> {
  const paths = s.kind.paths(resolveRoots(host.env), s.desired.name, s.desired);
  const l = await s.access.local(host, s.desired, paths as never);
  return l.ok ? l.creds.url : l.url;
}

/** Every LiveKit URL the page may be handed: the local one and the fallback (for its CSP). */
export async function livekitUrls(ctx: WebContext): Promise<string[]> {
  const { desired } = await ctx.load();
  const found = findService(desired);
  if (!found.ok) return [];
  const fb = found.s.access.fallback(found.s.desired);
  return [await localUrl(ctx.host, found.s), ...(fb === undefined ? [] : [fb.url])];
}

export interface TokenBody {
  readonly room?: string;
  readonly identity?: string;
  readonly name?: string;
}

/** The request body, checked: an object with optional short string fields. Throws UserError('USAGE'). */
export function parseTokenBody(body: unknown): TokenBody {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new UserError('USAGE', 'the body must be a JSON object');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k !== 'room' && k !== 'identity' && k !== 'name') throw new UserError('USAGE', `unknown field ${JSON.stringify(k)} (room, identity, name)`);
    if (typeof v !== 'string' || v.length > 128) throw new UserError('USAGE', `${k} must be a string of at most 128 characters`);
    out[k] = v;
  }
  return out;
}

export async function webToken(ctx: WebContext, raw: unknown): Promise<Record<string, unknown>> {
  const body = parseTokenBody(raw);
  const desired = await ctx.loadStrict();
  const s = clientService(desired, undefined);
  const req = parseTokenRequest({ room: body.room ?? DEFAULT_ROOM, ttl: TOKEN_TTL, ...(body.identity === undefined ? {} : { identity: body.identity }), ...(body.name === undefined ? {} : { name: body.name }) }, s.access, ctx.user, randomBytes(3).toString('hex').slice(0, 4));
  const c = await chooseConnection(ctx.host, desired, 'auto', s.desired.name);
  const jwt = await c.access.mintToken(c, req);
  return {
    access_token: jwt,
    url: c.url,
    api_key: c.apiKey,
    identity: req.identity,
    name: req.name ?? null,
    room: req.room ?? null,
    grants: req.grants,
    expires_at: new Date(ctx.host.now() + req.ttlSeconds * 1000).toISOString(),
    target: c.target,
    why: c.why,
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
