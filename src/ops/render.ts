// `vm render`: the normalised desired state one host gets from the file (its `hosts:` entries
// merged over the base), as data, secrets replaced by `(sensitive)`. Changes and observes
// nothing: a user reviews another machine's result before pushing the dotfile.

import type { DesiredState, SpecProblem } from '../model.js';
import { hostnameOf } from '../spec/hosts.js';
import { loadDesiredFor } from '../spec/load.js';
import type { Env } from '../spec/normalise.js';

export const SENSITIVE = '(sensitive)';

export interface Rendered {
  readonly format_version: '1';
  readonly host: string;
  /** The `hosts:` entries applied, in file order. */
  readonly applied: readonly string[];
  readonly desired: unknown;
  /** Secrets that could not be read here (another machine's environment): located, no values. */
  readonly unread: readonly SpecProblem[];
}

export async function renderHost(opts: { file?: string; cwd: string; env: Env; host?: string }): Promise<Rendered> {
  const host = opts.host ?? hostnameOf(opts.env);
  const { desired, secretProblems } = await loadDesiredFor({ ...(opts.file === undefined ? {} : { file: opts.file }), cwd: opts.cwd, env: opts.env, hostname: host });
  const { host: matched, inputs: _inputs, secretEnv: _env, ...rest } = desired;
  void _inputs;
  void _env;
  return { format_version: '1', host, applied: matched?.applied ?? [], desired: redact(rest as Omit<DesiredState, 'host'>), unread: secretProblems };
}

/**
 * Every secret of a desired state replaced: key secrets (`keys.entries`), passwords, the
 * fallback's api secret. By field name, so a new kind's `password` is covered without naming it.
 */
export function redact(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => redact(x));
  if (typeof v !== 'object' || v === null) return SECRET_FIELDS.has(key) && v !== undefined ? SENSITIVE : v;
  if (key === 'entries') return Object.fromEntries(Object.keys(v).map((k) => [k, SENSITIVE]));
  if (key === 'apiSecret') return SENSITIVE;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x, k)]));
}

const SECRET_FIELDS = new Set(['password', 'apiSecret', 'secret']);
