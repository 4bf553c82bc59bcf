// What a crash may and may not leave at vm's managed paths, checked from outside like a user would:
// every managed file that exists is whole (it parses, has the right mode), the active-binary link
// resolves to a binary that answers `--version`, and temp files beside them are counted apart
// (a temp file is not a partial file at a managed path; the path itself must never be partial).

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { resolveRoots } from '../../src/paths.js';
import { livekitPaths } from '../../src/services/livekit/paths.js';

export interface ManagedPaths {
  voicemodeHome: string;
  dir: string;
  /** The active-binary symlink. */
  link: string;
  versionsDir: string;
  config: string;
  keyFile: string;
  unitDir: string;
  unitFile: string;
  wantsLink: string;
  logDir: string;
  written: string;
  /** The apply lock (src/platform/lock.ts): a killed apply leaves it, naming a dead pid. */
  lock: string;
  /** Everything vm writes lives under these (walked for temp files and snapshots). */
  roots: string[];
}

export function managedPaths(env: Readonly<Record<string, string>>): ManagedPaths {
  const p = resolveRoots(env);
  const lk = livekitPaths(p, 'livekit');
  const unitDir = join(p.xdgConfigHome, 'systemd', 'user');
  return {
    voicemodeHome: p.voicemodeHome,
    dir: lk.dir,
    link: lk.binary,
    versionsDir: lk.versionsDir,
    config: lk.config,
    keyFile: lk.keyFile,
    unitDir,
    unitFile: lk.unitFile,
    wantsLink: lk.wantsLink,
    logDir: lk.logDir,
    written: lk.writtenRecord,
    lock: join(p.voicemodeHome, 'state', 'apply.lock'),
    roots: [p.voicemodeHome, unitDir],
  };
}

/** `.NAME.vm-tmp-*` (node-host's atomic writes) and `*.tmp-*` (the release installer). */
export const TEMP_NAME = /(^\..+\.vm-tmp-)|(\.tmp-[0-9a-f]+$)/;

export interface ManagedCheck {
  /** Broken invariants, one line each; empty when everything at a managed path is whole. */
  problems: string[];
  /** Temp files found beside the managed paths (absolute paths). */
  temps: string[];
  /** Contents of the managed text files that exist, by path (for old-or-new comparisons). */
  contents: Map<string, string>;
  /** `--version` of the active link, when it exists. */
  linkVersion: string | undefined;
}

const exists = (p: string) => lstat(p).then(() => true, () => false);

/** `livekit-server version X.Y.Z` → X.Y.Z; undefined (and why) otherwise. */
export function binaryVersion(path: string): Promise<{ version?: string; why?: string }> {
  return new Promise((resolve) => {
    execFile(path, ['--version'], { timeout: 5_000 }, (err, stdout, stderr) => {
      const m = /livekit-server version (\d+\.\d+\.\d+)/.exec(stdout);
      if (err === null && m?.[1] !== undefined) return resolve({ version: m[1] });
      resolve({ why: `${err?.message ?? 'no version line'} ${stderr}`.trim() });
    });
  });
}

async function modeOf(p: string): Promise<number> {
  return (await stat(p)).mode & 0o777;
}

/** Checks every managed path that exists. Never throws for what it finds: it reports it. */
export async function checkManaged(p: ManagedPaths): Promise<ManagedCheck> {
  const problems: string[] = [];
  const contents = new Map<string, string>();
  const text = async (path: string): Promise<string | undefined> => {
    if (!(await exists(path))) return undefined;
    const t = await readFile(path, 'utf8');
    contents.set(path, t);
    return t;
  };

  for (const [path, wantKeys] of [
    [p.config, false],
    [p.keyFile, true],
  ] as const) {
    const t = await text(path);
    if (t === undefined) continue;
    try {
      const doc = parse(t) as unknown;
      if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) problems.push(`${path}: not a YAML mapping (${t.length} bytes)`);
      else if (wantKeys && Object.values(doc).some((v) => typeof v !== 'string')) problems.push(`${path}: a key without a string secret`);
      else if (!wantKeys && !('key_file' in doc)) problems.push(`${path}: no key_file (cut short?)`);
    } catch (e) {
      problems.push(`${path}: does not parse as YAML: ${(e as Error).message.split('\n')[0]}`);
    }
    const mode = await modeOf(path);
    if (mode !== 0o600) problems.push(`${path}: mode 0${mode.toString(8)}, not 0600`);
  }

  const unit = await text(p.unitFile);
  if (unit !== undefined && !(unit.includes('[Service]') && /^ExecStart=\S/m.test(unit))) problems.push(`${p.unitFile}: no [Service] section or no ExecStart= (${unit.length} bytes)`);

  const written = await text(p.written);
  if (written !== undefined) {
    try {
      const j = JSON.parse(written) as { salt?: unknown; files?: unknown };
      if (typeof j.salt !== 'string' || typeof j.files !== 'object') problems.push(`${p.written}: no salt or files`);
    } catch (e) {
      problems.push(`${p.written}: not JSON: ${(e as Error).message}`);
    }
  }

  let linkVersion: string | undefined;
  if (await exists(p.link)) {
    const target = await readlink(p.link).catch(() => undefined);
    if (target === undefined) problems.push(`${p.link}: not a symlink`);
    const v = await binaryVersion(p.link);
    if (v.version === undefined) problems.push(`${p.link} → ${target ?? '?'}: does not answer --version: ${v.why ?? ''}`);
    linkVersion = v.version;
  }
  // Every installed version is whole too: the installer renames the binary into place.
  for (const v of await readdir(p.versionsDir).catch(() => [] as string[])) {
    if (!/^\d+\.\d+\.\d+$/.test(v)) continue;
    const bin = join(p.versionsDir, v, 'livekit-server');
    if (!(await exists(bin))) continue; // a version directory made just before the kill
    const got = await binaryVersion(bin);
    if (got.version !== v) problems.push(`${bin}: answers ${got.version ?? got.why ?? '?'}, not ${v}`);
  }
  if (await exists(p.logDir)) {
    if (!(await stat(p.logDir)).isDirectory()) problems.push(`${p.logDir}: not a directory`);
  }
  return { problems, temps: await findTemps(p.roots), contents, linkVersion };
}

async function walk(dir: string, visit: (path: string, name: string) => Promise<void>): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    await visit(path, e.name);
    if (e.isDirectory()) await walk(path, visit);
  }
}

export async function findTemps(roots: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const r of roots) await walk(r, async (path, name) => void (TEMP_NAME.test(name) && out.push(path)));
  return out.sort();
}

/**
 * Every path under the roots: type, mode, sha256 of files, target of links. Log files count by
 * presence only (LiveKit appends to them). For "apply changed nothing" comparisons.
 */
export async function snapshotTree(roots: readonly string[], logDir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const r of roots) {
    await walk(r, async (path) => {
      const st = await lstat(path);
      const mode = `0${(st.mode & 0o7777).toString(8)}`;
      if (st.isSymbolicLink()) out[path] = `link → ${await readlink(path)}`;
      else if (st.isDirectory()) out[path] = `dir ${mode}`;
      else if (path.startsWith(`${logDir}/`)) out[path] = 'log file';
      else out[path] = `file ${mode} ${createHash('sha256').update(await readFile(path)).digest('hex').slice(0, 16)}`;
    });
  }
  return out;
}

/** The version a running stand-in reports (its wrapper exports it into the server's environment). */
export async function standinVersionOf(pid: number): Promise<string | undefined> {
  try {
    const env = (await readFile(`/proc/${pid}/environ`, 'latin1')).split('\0');
    return env.find((e) => e.startsWith('LIVEKIT_STANDIN_VERSION='))?.split('=')[1];
  } catch {
    return undefined;
  }
}
