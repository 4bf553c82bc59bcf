// The spec pipeline: discover → read → decode → parse → validate (schema, then rules) →
// resolve secrets (environment, secret files) → refuse unsafe exposure → normalise. Problems are
// collected as data and thrown once, all together, as a SpecError.

import { open } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import { SpecError, UserError } from '../errors.js';
import type { DesiredState, SpecProblem, SpecSource } from '../model.js';
import { defaultDesired } from './default.js';
import { discoverSpec } from './discover.js';
import { normalise } from './normalise.js';
import type { Env, WrittenSpec } from './normalise.js';
import { MAX_SPEC_BYTES, decodeSpec, parseSpec, sizeProblem } from './parse.js';
import { hostLabel, hostMatches, hostnameOf, hostPatterns, matchingHosts, mergeHosts } from './hosts.js';
import { checkServiceRules } from './rules.js';
import { checkClientRules } from './rules-clients.js';
import { readSecretFileSync, resolveSecrets } from './secrets.js';
import type { SecretFileRead } from './secrets.js';
import { mergeProblems, sortProblems, validateSchema } from './validate.js';

/** A hostile file can have thousands of problems; past this many, one line says how many more. */
export const MAX_PROBLEMS = 20;

export interface LoadOptions {
  /** -f/--file, if given. */
  readonly file?: string;
  readonly cwd: string;
  readonly env: Env;
  /** The host name `hosts:` entries are matched against; default VOICEMODE_HOSTNAME, else os.hostname(). */
  readonly hostname?: string;
}

/**
 * The desired state for this run. No file found → the built-in default (source `default`).
 * Throws SpecError listing every problem, or UserError('SPEC_UNREADABLE') when the file
 * cannot be read.
 */
export async function loadDesired(opts: LoadOptions): Promise<DesiredState> {
  return (await load(opts, false)).desired;
}

async function load(opts: LoadOptions, deferSecrets: boolean): Promise<ReadableDesired> {
  const read = await readSpec(opts);
  if (read === undefined) return { desired: defaultDesired(), secretProblems: [] };
  return checkText(read.text, read.file, opts.env, { source: read.source, hostname: opts.hostname ?? hostnameOf(opts.env) }, deferSecrets);
}

/** The file's text, or undefined when there is none (the built-in default). */
async function readSpec(opts: LoadOptions): Promise<{ source: SpecSource; file: string; text: string } | undefined> {
  const source = await discoverSpec(opts);
  if (source.kind === 'default') return undefined;
  const { bytes, size } = await readCapped(source.path);
  const file = displayPath(source.path, opts.cwd);
  if (size > MAX_SPEC_BYTES) throw specError([sizeProblem(file, size)]);
  const text = decodeSpec(bytes, file);
  if (typeof text !== 'string') throw specError([text]);
  return { source, file, text };
}

/**
 * For another machine (`vm render --host NAME`): the desired state that host gets, read as
 * `vm status` reads (a secret it cannot have here is a located note, not a refusal).
 */
export async function loadDesiredFor(opts: LoadOptions & { readonly hostname: string }): Promise<ReadableDesired> {
  return load(opts, true);
}

/**
 * `vm validate`: the base alone, then every `hosts:` entry merged over it, each on its own. A
 * problem an entry brings is named after it; one the base already has is reported once. Secrets
 * of entries for other machines are not read here (their environment is not this one).
 * Returns this host's desired state and the entries checked.
 */
export async function validateEveryHost(opts: LoadOptions): Promise<{ desired: DesiredState; entries: string[] }> {
  const read = await readSpec(opts);
  if (read === undefined) return { desired: defaultDesired(), entries: [] };
  const host = opts.hostname ?? hostnameOf(opts.env);
  const parsed = parseSpec(read.text, read.file);
  if (!parsed.ok) throw specError(parsed.problems);
  const entries = hostPatterns(parsed.spec);
  const problems: SpecProblem[] = [];
  const seen = new Set<string>();
  const run = (hosts: readonly string[], label: string | undefined, defer: boolean): void => {
    try {
      checkText(read.text, read.file, opts.env, { source: read.source, hostname: host, hosts }, defer);
    } catch (e) {
      if (!(e instanceof SpecError)) throw e;
      for (const p of e.problems) {
        const key = `${p.line}:${p.column}:${p.message}`;
        if (seen.has(key)) continue;
        seen.add(key);
        problems.push(label === undefined ? p : { ...p, message: `${p.message} (with ${label} applied)` });
      }
    }
  };
  run([], undefined, false);
  for (const e of entries) run([e], hostLabel(e), !hostMatches(e, host));
  if (problems.length > 0) throw specError(sortProblems(problems));
  const desired = checkText(read.text, read.file, opts.env, { source: read.source, hostname: host }, false).desired;
  return { desired, entries };
}

/**
 * For read-only commands (`vm status`): the desired state even when a secret cannot be had (an
 * unset `{ env }` variable, a secret file others may read). Every other problem still throws.
 * A key whose secret is missing holds UNRESOLVED_SECRET, so what needs no secret (binary, unit,
 * process, health) can still be observed; `secretProblems` says, located, what is wrong, and
 * the caller must neither apply nor trust the key file's diff.
 */
export function loadDesiredForReading(opts: LoadOptions): Promise<ReadableDesired> {
  return load(opts, true);
}

export interface ReadableDesired {
  readonly desired: DesiredState;
  /** Why some secrets could not be had (each located; never the secret). Empty when all were. */
  readonly secretProblems: readonly SpecProblem[];
}

/**
 * What stands in for a secret that could not be read, in loadDesiredForReading only. Not a
 * secret anyone has: resolveSecret refuses control characters in a real one.
 */
export const UNRESOLVED_SECRET = '\u0000unresolved secret: see the located problem\u0000';

export interface ValidateOptions {
  /** Where the text came from; defaults to `file` given with --file. */
  readonly source?: SpecSource;
  /** Reads a `{ file: PATH }` secret; defaults to the file system (readSecretFileSync). */
  readonly readSecretFile?: (path: string) => SecretFileRead;
  /** The host `hosts:` entries are matched against (default: VOICEMODE_HOSTNAME, else os.hostname()). */
  readonly hostname?: string;
  /** Apply exactly these `hosts:` entries instead of the matching ones (`vm validate`). */
  readonly hosts?: readonly string[];
}

/**
 * Validates and normalises file content. `file` names it in problems. Throws SpecError with
 * every problem found. Used by loadDesired and tests. `{ env }` secrets are read from `env`.
 */
export function validateText(text: string, file: string, env: Env, opts: ValidateOptions = {}): DesiredState {
  return checkText(text, file, env, opts, false).desired;
}

/** validateText, and with `deferSecrets` loadDesiredForReading's leniency about secrets. */
function checkText(text: string, file: string, env: Env, opts: ValidateOptions, deferSecrets: boolean): ReadableDesired {
  const original = parseSpec(text, file);
  if (!original.ok) throw specError(original.problems);
  // `hosts:` itself is checked on the file as written; everything else on the merged document,
  // whose nodes keep their places in the text (hosts.ts), so an override's problem is at its line.
  const hostProblems = validateSchema(original.spec).filter((p) => p.pointer === '/hosts' || p.pointer.startsWith('/hosts/'));
  const hostname = opts.hostname ?? hostnameOf(env);
  const hasHosts = typeof original.spec.data === 'object' && original.spec.data !== null && 'hosts' in original.spec.data;
  const applied = hostProblems.length > 0 ? [] : (opts.hosts ?? matchingHosts(original.spec, hostname));
  const parsed = { spec: mergeHosts(original.spec, applied) };
  const schema = [...hostProblems, ...validateSchema(parsed.spec)];
  // Remember which secret files were read: `vm watch` re-checks when one of them changes.
  const inputs = new Set<string>();
  const readFile = (path: string) => {
    inputs.add(path);
    return (opts.readSecretFile ?? readSecretFileSync)(path);
  };
  const secrets = resolveSecrets(parsed.spec, schema, { env, readFile });
  const deferred = deferSecrets ? secrets.problems : [];
  const later = [
    ...checkServiceRules(parsed.spec, env, secrets.byPointer),
    ...checkClientRules(parsed.spec, env),
    ...(deferSecrets ? [] : secrets.problems),
  ];
  const problems = mergeProblems(schema, later);
  // Deferred or not, a file with other problems is refused with all of them.
  if (problems.length > 0) throw specError(deferred.length === 0 ? problems : mergeProblems(schema, [...later, ...deferred]));
  // A secret that cannot be had here stands in as UNRESOLVED_SECRET (read-only commands only).
  const byPointer = deferred.length === 0 ? secrets.byPointer : new Map([...secrets.byPointer, ...deferred.map((p) => [p.pointer, UNRESOLVED_SECRET] as const)]);
  const desired = normalise(parsed.spec.data as WrittenSpec, opts.source ?? { kind: 'file', path: file, via: 'flag' }, env, byPointer, secrets.lazy, process.platform);
  const envNames = secrets.envNames;
  return {
    desired: {
      ...desired,
      ...(inputs.size === 0 ? {} : { inputs: [...inputs] }),
      ...(envNames.length === 0 ? {} : { secretEnv: envNames }),
      ...(hasHosts ? { host: { name: hostname, applied } } : {}),
    },
    secretProblems: deferred.length === 0 ? [] : specError(deferred).problems,
  };
}

/**
 * The SpecError for `problems`: each message one line of plain text (a key name may hold any
 * character: controls and bidi overrides are escaped, so what the terminal shows is what the
 * file says), and at most MAX_PROBLEMS of them.
 */
function specError(problems: readonly SpecProblem[]): SpecError {
  const clean = problems.map((p) => ({ ...p, message: printable(p.message), pointer: printable(p.pointer) }));
  const unique = clean.filter((p, i) => i === 0 || formatKey(p) !== formatKey(clean[i - 1] as SpecProblem));
  if (unique.length <= MAX_PROBLEMS) return new SpecError(unique);
  const next = unique[MAX_PROBLEMS] as SpecProblem;
  const rest = unique.length - MAX_PROBLEMS;
  return new SpecError([...unique.slice(0, MAX_PROBLEMS), { ...next, pointer: '', message: `and ${rest} more problem${rest === 1 ? '' : 's'} from here on; fix the ones above first` }]);
}

function formatKey(p: SpecProblem): string {
  return `${p.line}:${p.column}:${p.message}`;
}

// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function printable(message: string): string {
  return message.replace(UNPRINTABLE, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
}

/** Relative to cwd when the file is inside it (short, and what the user typed); else absolute. */
function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/**
 * Reads at most MAX_SPEC_BYTES + 1 bytes, so a huge file is refused without being read whole.
 * `size` is the larger of the stat size and what was read (a special file may report 0).
 */
async function readCapped(path: string): Promise<{ bytes: Uint8Array; size: number }> {
  try {
    const fh = await open(path, 'r');
    try {
      const info = await fh.stat();
      if (!info.isFile()) throw new UserError('SPEC_UNREADABLE', `${path}: is not a regular file`);
      const buf = Buffer.alloc(MAX_SPEC_BYTES + 1);
      let total = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, total, buf.length - total, total);
        total += bytesRead;
        if (bytesRead === 0 || total === buf.length) break;
      }
      return { bytes: buf.subarray(0, total), size: Math.max(info.size, total) };
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new UserError('SPEC_UNREADABLE', `${path}: cannot read it (${err.code ?? err.message})`);
  }
}
