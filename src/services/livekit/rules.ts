// LiveKit's rules the schema cannot express: its ports against each other, the release URL
// policy, `~/` needing HOME, addresses only isIP can judge, STUN against the tailnet, a Redis
// beyond loopback without a password, the fallback's URL, and what must not face a network
// (a weak secret, dev mode) unless allow_insecure: true. See src/spec/rule-kit.ts.

import { baseUrlProblem } from '../../platform/url-policy.js';
import { splitAddress } from '../../resources/redis-ping.js';
import { LIVEKIT_DEFAULTS as DEFAULTS } from './defaults.js';
import { describeExposure, exposure } from '../../spec/exposure.js';
import { escapePointer, show, subject, valueAt } from '../../spec/messages.js';
import { checkBindAddresses, checkHealthTimeout, isMap, needsHome, type Entry, type RuleContext } from '../../spec/rule-kit.js';
import { describeWeakness, secretWeakness } from './exposure-rules.js';
import { fallbackUrlProblem } from './fallback-url.js';
import type { SecretPlace } from '../../spec/secrets.js';

interface Port {
  readonly value: number;
  /** Where it was written; undefined when it is the default. */
  readonly pointer: string | undefined;
}

export function livekitRules(lk: Entry, ctx: RuleContext): void {
  const { at, report } = ctx;
  /** The port at `rel`, its default when absent, undefined when the schema rejects it. */
  const port = (rel: string, fallback: number): Port | undefined => {
    const v = valueAt(lk, rel);
    if (v === undefined) return { value: fallback, pointer: undefined };
    return Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535 ? { value: v as number, pointer: `${at}${rel}` } : undefined;
  };
  const named = (p: Port, name: string): string => `${name} ${p.value}${p.pointer === undefined ? ' (the default)' : ''}`;
  const http = port('/port', DEFAULTS.port);
  const start = port('/rtc/port_range_start', DEFAULTS.rtc.portRangeStart);
  const end = port('/rtc/port_range_end', DEFAULTS.rtc.portRangeEnd);
  const tcp = port('/rtc/tcp_port', DEFAULTS.rtc.tcpPort);

  if (start !== undefined && end !== undefined) {
    if (start.value >= end.value) {
      report(end.pointer ?? start.pointer ?? `${at}/rtc`, `${named(start, 'port_range_start')} must be below ${named(end, 'port_range_end')}`);
    } else {
      const range = `the RTC port range ${start.value}-${end.value}`;
      for (const [p, name] of [[http, 'port'], [tcp, 'tcp_port']] as const) {
        if (p === undefined || p.value < start.value || p.value > end.value) continue;
        report(p.pointer ?? start.pointer ?? end.pointer ?? `${at}/rtc`, `${named(p, name)} is inside ${range}; move one of them`);
      }
    }
  }
  if (http !== undefined && tcp !== undefined && http.value === tcp.value) {
    report(tcp.pointer ?? http.pointer ?? `${at}/rtc`, `${named(tcp, 'tcp_port')} is the same as ${named(http, 'port')}; they must differ`);
  }

  const method = valueAt(lk, '/install/method');
  const baseUrl = valueAt(lk, '/install/base_url');
  if ((method === undefined || method === 'release') && typeof baseUrl === 'string') {
    const why = baseUrlProblem(baseUrl);
    if (why !== undefined) report(`${at}/install/base_url`, `base_url is not acceptable: ${why}`);
  }
  needsHome(ctx, `${at}/install/path`, valueAt(lk, '/install/path'));
  needsHome(ctx, `${at}/install/archive`, valueAt(lk, '/install/archive'));
  checkBindAddresses(lk, ctx, DEFAULTS.bindAddresses);

  // use_external_ip makes LiveKit ask STUN for its public address and advertise that instead of
  // rtc.node_ip (mediatransportutil rtcconfig: determineIP runs when UseExternalIP is set).
  if (valueAt(lk, '/expose/tailscale') === true && valueAt(lk, '/rtc/use_external_ip') === true) {
    report(`${at}/rtc/use_external_ip`, 'use_external_ip: true advertises the public address found by STUN, but expose.tailscale advertises the tailnet address as rtc.node_ip; remove one of them');
  }

  // A Redis other machines reach must not be open to anyone who can reach it: LiveKit's rooms
  // and nodes live there.
  const redis = lk['redis'];
  if (isMap(redis)) {
    const host = typeof redis['address'] === 'string' ? splitAddress(redis['address'])?.host : undefined;
    if (host !== undefined && !isLoopbackName(host) && redis['password'] === undefined) {
      report(`${at}/redis/address`, `redis.address ${show(redis['address'])} is beyond loopback, but no redis.password is given: anyone who can reach that Redis could read and change LiveKit's rooms; set redis.password (text, { env: NAME } or { file: PATH }) and the same requirepass on the Redis`);
    }
  }

  const url = valueAt(lk, '/fallback/url');
  if (typeof url === 'string') {
    const why = fallbackUrlProblem(url);
    if (why !== undefined) report(`${at}/fallback/url`, `fallback ${why}`);
  }
  checkHealthTimeout(lk, ctx);
  refuseWeakExposure(lk, ctx);
}

const EXPOSURE_FIX = 'listen on 127.0.0.1 only, or set allow_insecure: true';

/** `expose.tailscale: true` or `expose.https: true` as written, or undefined when neither. */
function tailnetExposure(expose: unknown): string | undefined {
  if (!isMap(expose)) return undefined;
  if (expose['tailscale'] === true) return 'expose.tailscale';
  return expose['https'] === true ? 'expose.https' : undefined;
}

/**
 * Refuses what must not face a network: with a non-loopback bind address (or the tailnet), a
 * secret shorter than 32 characters or LiveKit's well-known development secret, and dev: true
 * (it serves /debug/pprof). `allow_insecure: true` lets them through; every plan then warns
 * (exposure-rules.ts, exposureWarnings).
 */
function refuseWeakExposure(lk: Entry, ctx: RuleContext): void {
  if (lk['allow_insecure'] === true) return;
  const binds = lk['bind_addresses'];
  const open = exposure(Array.isArray(binds) ? binds : DEFAULTS.bindAddresses);
  // The tailnet is a network too: expose obeys the same rule as a bind address off loopback.
  const tailnet = tailnetExposure(lk['expose']);
  if (open === undefined && tailnet === undefined) return;
  const where = open === undefined ? `LiveKit is reachable on the tailnet (${tailnet})` : `LiveKit listens on ${describeExposure(open)}`;
  const fix = open === undefined ? 'or remove expose (or set allow_insecure: true)' : EXPOSURE_FIX;
  for (const name of isMap(lk['keys']) ? Object.keys(lk['keys']) : []) {
    const pointer = `${ctx.at}/keys/${escapePointer(name)}`;
    const secret = ctx.secretAt(pointer);
    const weak = secret === undefined ? undefined : secretWeakness(secret);
    if (weak === undefined) continue;
    const own = weak === 'well-known' ? 'your own' : 'a';
    ctx.report(pointer, `${subject(pointer)} ${describeWeakness(weak)}, but ${where}: anyone who can reach it could guess the secret; use ${own} random secret of 32 or more characters (openssl rand -base64 32), ${fix}`);
  }
  if (lk['dev'] === true) {
    ctx.report(`${ctx.at}/dev`, `dev: true serves LiveKit's /debug/pprof profiling endpoints, but ${where}: anyone who can reach it could use them; remove dev: true, ${fix}`);
  }
}

/** Its API keys' secrets, its Redis password, and the fallback's secret (lazy: only clients need it). */
export function livekitSecrets(lk: Entry, at: string): SecretPlace[] {
  const keys = isMap(lk['keys']) ? Object.keys(lk['keys']).map((name) => {
    const pointer = `${at}/keys/${escapePointer(name)}`;
    return { pointer, who: subject(pointer) };
  }) : [];
  const redis = isMap(lk['redis']) && 'password' in lk['redis'] ? [{ pointer: `${at}/redis/password`, who: 'the Redis password' }] : [];
  const fallback = isMap(lk['fallback']) && 'api_secret' in lk['fallback'] ? [{ pointer: `${at}/fallback/api_secret`, who: "the fallback's api_secret", lazy: true }] : [];
  return [...redis, ...keys, ...fallback];
}

/** 127.0.0.0/8, ::1 or localhost. */
function isLoopbackName(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
