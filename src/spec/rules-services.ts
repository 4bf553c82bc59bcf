// Rules for the services beside LiveKit (whisper, kokoro, command) and across services, that the
// schema cannot express. Like rules.ts, each looks only at values of the right type.
//   - a bind address must be a valid IP; beyond loopback needs allow_insecure (these services
//     have no authentication at all: Voice Mode's whisper once listened on 0.0.0.0);
//   - whisper's model is { path } or { url, sha256 }, and a url passes the download policy;
//   - a command's program is an absolute or ~/ path; `~/` needs HOME;
//   - two services never share a port (on overlapping addresses).

import { isIP } from 'node:net';
import type { SpecProblem } from '../model.js';
import { baseUrlProblem } from '../platform/url-policy.js';
import { describeExposure, exposure } from './exposure.js';
import { escapePointer, show, subject, valueAt } from './messages.js';
import { homeDir, parseDuration, serviceKind } from './normalise.js';
import type { Env } from './normalise.js';
import { locate } from './parse.js';
import type { ParsedSpec } from './parse.js';

const DEFAULT_PORTS: Readonly<Record<string, number>> = { livekit: 7880, whisper: 2022, kokoro: 8880, redis: 6379 };
const MAX_HEALTH_TIMEOUT_MS = 3_600_000;

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function checkServiceRules(spec: ParsedSpec, env: Env): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const report = (pointer: string, message: string, part: 'key' | 'value' = 'value'): void => {
    const { line, column } = locate(spec, pointer, part);
    problems.push({ file: spec.file, line, column, message, pointer });
  };
  const services = valueAt(spec.data, '/services');
  if (!isMap(services)) return problems;
  const ports: Array<{ name: string; port: number; pointer: string; binds: readonly string[] }> = [];
  for (const [name, ws] of Object.entries(services)) {
    if (!isMap(ws)) continue;
    const at = `/services/${escapePointer(name)}`;
    const kind = serviceKind(name, ws as { kind?: never });
    const port = Number.isInteger(ws['port']) ? (ws['port'] as number) : DEFAULT_PORTS[name];
    const binds = Array.isArray(ws['bind_addresses']) ? ws['bind_addresses'].filter((b): b is string => typeof b === 'string') : ['127.0.0.1'];
    if (port !== undefined && ws['state'] !== 'absent') ports.push({ name, port, pointer: Number.isInteger(ws['port']) ? `${at}/port` : at, binds });
    if (kind === 'livekit') continue; // rules.ts knows LiveKit

    binds.forEach((b, i) => {
      const pointer = `${at}/bind_addresses/${i}`;
      if (isIP(b) === 0) report(pointer, `${subject(pointer)} is not a valid IP address (got ${show(b)})`);
    });
    const open = exposure(binds);
    if (kind === 'redis') {
      // Redis has authentication (requirepass): beyond loopback it needs a password.
      if (open !== undefined && ws['password'] === undefined) report(`${at}/bind_addresses/${open.index}`, `${name} would listen on ${describeExposure(open)} without a password: anyone who can reach it could read and change it; set password (text, { env: NAME } or { file: PATH }), or listen on 127.0.0.1 only`);
    } else if (open !== undefined && ws['allow_insecure'] !== true) {
      report(`${at}/bind_addresses/${open.index}`, `${name} would listen on ${describeExposure(open)}, but it has no authentication: anyone who can reach it could use it; listen on 127.0.0.1 only, or set allow_insecure: true`);
    }
    const home = homeDir(env);
    const needsHome = (pointer: string, v: unknown): void => {
      if (typeof v === 'string' && v.startsWith('~/') && home === undefined) report(pointer, `${subject(pointer)} starts with ~/ but HOME is not set to an absolute path; write the full path`);
    };
    needsHome(`${at}/install/path`, valueAt(ws, '/install/path'));
    needsHome(`${at}/working_dir`, ws['working_dir']);
    needsHome(`${at}/model/path`, valueAt(ws, '/model/path'));

    const model = ws['model'];
    if (isMap(model)) {
      const has = (k: string) => typeof model[k] === 'string';
      if (has('path') && (has('url') || has('sha256'))) report(`${at}/model`, 'model takes either path (a file you have) or url with sha256 (vm downloads it), not both');
      else if (has('url') && !has('sha256')) report(`${at}/model`, 'model.url needs model.sha256, so vm can check the download before using it (sha256sum FILE prints it)');
      else if (has('sha256') && !has('url')) report(`${at}/model/sha256`, 'model.sha256 is only used with model.url');
      else if (!has('path') && !has('url')) report(`${at}/model`, 'model needs path, or url and sha256');
      if (typeof model['url'] === 'string') {
        const why = baseUrlProblem(model['url']);
        if (why !== undefined) report(`${at}/model/url`, `model.url is not acceptable: ${why}`);
      }
    }
    const command = ws['command'];
    if (Array.isArray(command) && typeof command[0] === 'string') {
      const program = command[0];
      if (!program.startsWith('/') && !program.startsWith('~/')) report(`${at}/command/0`, `command[0] must be the program's absolute path or start with ~/ (got ${show(program)}); vm does not search PATH`);
      needsHome(`${at}/command/0`, program);
    }
    if (kind !== 'command' && ws['command'] !== undefined) report(`${at}/command`, `command is only used with kind: command; ${name}'s command line comes from its own fields`, 'key');
    const timeout = valueAt(ws, '/health/timeout');
    const ms = parseDuration(timeout);
    if (ms !== undefined && (ms <= 0 || ms > MAX_HEALTH_TIMEOUT_MS)) report(`${at}/health/timeout`, `timeout must be longer than 0 and at most 1 hour (got ${show(timeout)})`);
  }
  // Two services on one port: the second could never listen there.
  for (const [i, a] of ports.entries()) {
    const b = ports.slice(0, i).find((p) => p.port === a.port && overlap(p.binds, a.binds));
    if (b !== undefined) report(a.pointer, `${a.name} and ${b.name} both use port ${a.port}; give one of them another port`);
  }
  return problems;
}

function overlap(a: readonly string[], b: readonly string[]): boolean {
  const any = (x: readonly string[]) => x.some((v) => v === '0.0.0.0' || v === '::');
  return any(a) || any(b) || a.some((x) => b.includes(x));
}
