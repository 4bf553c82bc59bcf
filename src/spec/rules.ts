// The rules the schema cannot express, for every service: each kind's own (ServiceKind.rules,
// in its folder) and the one across services — two services never share a port (on
// overlapping addresses). The clients' rules are in rules-clients.ts.
//
// They run on the same document as the schema, even when the schema found problems, so the
// user sees everything in one go (src/spec/rule-kit.ts says what that asks of a rule).

import type { SpecProblem } from '../model.js';
import { homeDir, writtenServices, type Env } from './normalise.js';
import { locate, type ParsedSpec } from './parse.js';
import type { RuleContext } from './rule-kit.js';

/** `secrets`: the secrets load.ts resolved, by JSON pointer (exposure rules judge them). */
export function checkServiceRules(spec: ParsedSpec, env: Env, secrets: ReadonlyMap<string, string>): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const report = (pointer: string, message: string, part: 'key' | 'value' = 'value'): void => {
    const { line, column } = locate(spec, pointer, part);
    problems.push({ file: spec.file, line, column, message, pointer });
  };
  const home = homeDir(env);
  const ports: Array<{ name: string; port: number; pointer: string; binds: readonly string[] }> = [];
  for (const { name, at, entry: ws, kind } of writtenServices(spec.data)) {
    // A kind the schema does not know (a typo in `kind:`) is the schema's to report.
    if (kind === undefined) continue;
    // vm watch --install-service is voicemode-watch.service / com.voicemode.watch.
    if (name === 'watch') report(at, 'a service cannot be named watch: voicemode-watch.service is vm watch\'s own unit (vm watch --install-service); choose another name', 'key');
    const ctx: RuleContext = { name, at, env, home, secretAt: (pointer) => secrets.get(pointer), report };
    kind.rules(ws, ctx);
    const written = Number.isInteger(ws['port']);
    const port = written ? (ws['port'] as number) : kind.defaultPort;
    const binds = Array.isArray(ws['bind_addresses']) ? ws['bind_addresses'].filter((b): b is string => typeof b === 'string') : ['127.0.0.1'];
    if (port !== undefined && ws['state'] !== 'absent') ports.push({ name, port, pointer: written ? `${at}/port` : at, binds });
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
