// What a kind's rules (ServiceKind.rules, src/services/contract.ts) are given, and the checks
// several kinds share. A rule runs on the entry as written, even when the schema found
// problems there (so the user sees everything at once): it looks only at values of the right
// type, and load.ts drops its problem where the schema already reported one.

import { isIP } from 'node:net';
import type { ServiceName } from '../model.js';
import { describeExposure, exposure, type Exposure } from './exposure.js';
import { show, subject, valueAt } from './messages.js';
import { parseDuration, type Env } from './normalise.js';

export interface RuleContext {
  readonly name: ServiceName;
  /** The entry's JSON pointer, `/services/NAME` (the name escaped). */
  readonly at: string;
  readonly env: Env;
  /** HOME when it is an absolute path; `~/` cannot be expanded without it. */
  readonly home: string | undefined;
  /** A (not lazy) secret as resolved, by its JSON pointer: what must not face a network weak. */
  secretAt(pointer: string): string | undefined;
  /** A problem at `pointer` (absolute); `key` points at the key rather than its value. */
  report(pointer: string, message: string, part?: 'key' | 'value'): void;
}

export type Entry = Readonly<Record<string, unknown>>;

export const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const MAX_HEALTH_TIMEOUT_MS = 3_600_000;

/** health.timeout must be a real wait: above 0, at most an hour. */
export function checkHealthTimeout(entry: Entry, ctx: RuleContext): void {
  const timeout = valueAt(entry, '/health/timeout');
  const ms = parseDuration(timeout);
  if (ms !== undefined && (ms <= 0 || ms > MAX_HEALTH_TIMEOUT_MS)) ctx.report(`${ctx.at}/health/timeout`, `timeout must be longer than 0 and at most 1 hour (got ${show(timeout)})`);
}

/**
 * Each bind address must be an IP literal (the schema's pattern lets through what only isIP can
 * judge). Returns the first that reaches beyond loopback, if any, for the kind to judge.
 */
export function checkBindAddresses(entry: Entry, ctx: RuleContext, fallback: readonly string[]): Exposure | undefined {
  const binds = entry['bind_addresses'];
  const list = Array.isArray(binds) ? binds : fallback;
  list.forEach((b: unknown, i) => {
    const pointer = `${ctx.at}/bind_addresses/${i}`;
    if (typeof b === 'string' && isIP(b) === 0) ctx.report(pointer, `${subject(pointer)} is not a valid IP address (got ${show(b)})`);
  });
  return exposure(list);
}

/** A `~/` path needs HOME. */
export function needsHome(ctx: RuleContext, pointer: string, v: unknown): void {
  if (typeof v === 'string' && v.startsWith('~/') && ctx.home === undefined) ctx.report(pointer, `${subject(pointer)} starts with ~/ but HOME is not set to an absolute path; write the full path`);
}

/** A service with no authentication of its own listens beyond loopback only with allow_insecure. */
export function refuseOpenWithoutAuth(entry: Entry, ctx: RuleContext, open: Exposure | undefined): void {
  if (open === undefined || entry['allow_insecure'] === true) return;
  ctx.report(`${ctx.at}/bind_addresses/${open.index}`, `${ctx.name} would listen on ${describeExposure(open)}, but it has no authentication: anyone who can reach it could use it; listen on 127.0.0.1 only, or set allow_insecure: true`);
}
