// Rules the schema cannot express: relations between fields, and checks that need code
// (URL policy, exact IPv6 syntax, duration bounds, HOME for `~/`).
//
// They run on the same document as the schema, even when the schema found problems, so the
// user sees everything in one go. Each rule therefore only looks at values of the right type
// and range, and load.ts drops a rule's problem where the schema already reported one.

import { isIP } from 'node:net';
import type { SpecProblem } from '../model.js';
import { baseUrlProblem } from '../platform/url-policy.js';
import { DEFAULTS } from './default.js';
import { describeExposure, describeWeakness, exposure, secretWeakness } from './exposure.js';
import { escapePointer, show, subject, valueAt } from './messages.js';
import { homeDir, parseDuration } from './normalise.js';
import type { Env } from './normalise.js';
import { locate } from './parse.js';
import { splitAddress } from '../resources/redis-ping.js';
import type { ParsedSpec } from './parse.js';

const LK = '/services/livekit';
const MAX_HEALTH_TIMEOUT_MS = 3_600_000;

interface Port {
  readonly value: number;
  /** Where it was written; undefined when it is the default. */
  readonly pointer: string | undefined;
}

export function checkRules(spec: ParsedSpec, env: Env): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const report = (pointer: string, message: string): void => {
    const { line, column } = locate(spec, pointer, 'value');
    problems.push({ file: spec.file, line, column, message, pointer });
  };
  const at = (pointer: string): unknown => valueAt(spec.data, pointer);
  const lk = at(LK);
  if (typeof lk !== 'object' || lk === null || Array.isArray(lk)) return problems;

  /** The port at `pointer`, its default when absent, undefined when the schema rejects it. */
  const port = (pointer: string, fallback: number): Port | undefined => {
    const v = at(pointer);
    if (v === undefined) return { value: fallback, pointer: undefined };
    return Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535 ? { value: v as number, pointer } : undefined;
  };
  const named = (p: Port, name: string): string => `${name} ${p.value}${p.pointer === undefined ? ' (the default)' : ''}`;
  const http = port(`${LK}/port`, DEFAULTS.port);
  const start = port(`${LK}/rtc/port_range_start`, DEFAULTS.rtc.portRangeStart);
  const end = port(`${LK}/rtc/port_range_end`, DEFAULTS.rtc.portRangeEnd);
  const tcp = port(`${LK}/rtc/tcp_port`, DEFAULTS.rtc.tcpPort);

  if (start !== undefined && end !== undefined) {
    if (start.value >= end.value) {
      const where = end.pointer ?? start.pointer ?? `${LK}/rtc`;
      report(where, `${named(start, 'port_range_start')} must be below ${named(end, 'port_range_end')}`);
    } else {
      const range = `the RTC port range ${start.value}-${end.value}`;
      for (const [p, name] of [[http, 'port'], [tcp, 'tcp_port']] as const) {
        if (p === undefined || p.value < start.value || p.value > end.value) continue;
        const where = p.pointer ?? start.pointer ?? end.pointer ?? `${LK}/rtc`;
        report(where, `${named(p, name)} is inside ${range}; move one of them`);
      }
    }
  }
  if (http !== undefined && tcp !== undefined && http.value === tcp.value) {
    report(tcp.pointer ?? http.pointer ?? `${LK}/rtc`, `${named(tcp, 'tcp_port')} is the same as ${named(http, 'port')}; they must differ`);
  }

  const method = at(`${LK}/install/method`);
  const baseUrl = at(`${LK}/install/base_url`);
  if ((method === undefined || method === 'release') && typeof baseUrl === 'string') {
    const why = baseUrlProblem(baseUrl);
    if (why !== undefined) report(`${LK}/install/base_url`, `base_url is not acceptable: ${why}`);
  }

  const path = at(`${LK}/install/path`);
  if (typeof path === 'string' && path.startsWith('~/') && homeDir(env) === undefined) {
    report(`${LK}/install/path`, 'path starts with ~/ but HOME is not set to an absolute path; write the full path');
  }

  const binds = at(`${LK}/bind_addresses`);
  if (Array.isArray(binds)) {
    binds.forEach((b: unknown, i) => {
      const pointer = `${LK}/bind_addresses/${i}`;
      if (typeof b === 'string' && isIP(b) === 0) report(pointer, `${subject(pointer)} is not a valid IP address (got ${show(b)})`);
    });
  }

  // use_external_ip makes LiveKit ask STUN for its public address and advertise that instead of
  // rtc.node_ip (mediatransportutil rtcconfig: determineIP runs when UseExternalIP is set).
  if (at(`${LK}/expose/tailscale`) === true && at(`${LK}/rtc/use_external_ip`) === true) {
    report(`${LK}/rtc/use_external_ip`, 'use_external_ip: true advertises the public address found by STUN, but expose.tailscale advertises the tailnet address as rtc.node_ip; remove one of them');
  }

  // A Redis other machines reach must not be open to anyone who can reach it: LiveKit's rooms
  // and nodes live there.
  const redis = at(`${LK}/redis`);
  if (typeof redis === 'object' && redis !== null && !Array.isArray(redis)) {
    const r = redis as Record<string, unknown>;
    const host = typeof r['address'] === 'string' ? splitAddress(r['address'])?.host : undefined;
    if (host !== undefined && !isLoopbackName(host) && r['password'] === undefined) {
      report(`${LK}/redis/address`, `redis.address ${show(r['address'])} is beyond loopback, but no redis.password is given: anyone who can reach that Redis could read and change LiveKit's rooms; set redis.password (text, { env: NAME } or { file: PATH }) and the same requirepass on the Redis`);
    }
  }

  const timeout = at(`${LK}/health/timeout`);
  const ms = parseDuration(timeout);
  if (ms !== undefined && (ms <= 0 || ms > MAX_HEALTH_TIMEOUT_MS)) {
    report(`${LK}/health/timeout`, `timeout must be longer than 0 and at most 1 hour (got ${show(timeout)})`);
  }
  return problems;
}

const EXPOSURE_FIX = 'listen on 127.0.0.1 only, or set allow_insecure: true';

/** `expose.tailscale: true` or `expose.https: true` as written, or undefined when neither. */
function tailnetExposure(expose: unknown): string | undefined {
  if (typeof expose !== 'object' || expose === null) return undefined;
  const e = expose as { tailscale?: unknown; https?: unknown };
  if (e.tailscale === true) return 'expose.tailscale';
  return e.https === true ? 'expose.https' : undefined;
}

/**
 * Refuses what must not face a network: with a non-loopback bind address, a secret shorter than
 * 32 characters or LiveKit's well-known development secret (`secrets`: the resolved ones, by
 * key name), and dev: true (it serves /debug/pprof). `allow_insecure: true` lets them through;
 * every plan then warns (exposure.ts, specWarnings).
 */
export function checkExposure(spec: ParsedSpec, secrets: ReadonlyMap<string, string>): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const at = (pointer: string): unknown => valueAt(spec.data, pointer);
  const lk = at(LK);
  if (typeof lk !== 'object' || lk === null || Array.isArray(lk)) return problems;
  if (at(`${LK}/allow_insecure`) === true) return problems;
  const binds = at(`${LK}/bind_addresses`);
  const open = exposure(Array.isArray(binds) ? binds : DEFAULTS.bindAddresses);
  // The tailnet is a network too: expose obeys the same rule as a bind address off loopback.
  const tailnet = tailnetExposure(at(`${LK}/expose`));
  if (open === undefined && tailnet === undefined) return problems;
  const where = open === undefined ? `LiveKit is reachable on the tailnet (${tailnet})` : `LiveKit listens on ${describeExposure(open)}`;
  const report = (pointer: string, message: string): void => {
    const { line, column } = locate(spec, pointer, 'value');
    problems.push({ file: spec.file, line, column, message, pointer });
  };
  const fix = open === undefined ? 'or remove expose (or set allow_insecure: true)' : EXPOSURE_FIX;
  for (const [name, secret] of secrets) {
    const weak = secretWeakness(secret);
    if (weak === undefined) continue;
    const pointer = `${LK}/keys/${escapePointer(name)}`;
    const own = weak === 'well-known' ? 'your own' : 'a';
    report(pointer, `${subject(pointer)} ${describeWeakness(weak)}, but ${where}: anyone who can reach it could guess the secret; use ${own} random secret of 32 or more characters (openssl rand -base64 32), ${fix}`);
  }
  if (at(`${LK}/dev`) === true) {
    report(`${LK}/dev`, `dev: true serves LiveKit's /debug/pprof profiling endpoints, but ${where}: anyone who can reach it could use them; remove dev: true, ${fix}`);
  }
  return problems;
}

/** 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackName(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
