// Crash safety: `kill -9` of `vm apply` at any point leaves no partial file at a managed path, and
// the next `vm apply` converges. Killed at every step boundary (the test-only hook
// VM_TEST_KILL_BEFORE_STEP=N), after seeded random delays (some while a slow download is in
// flight), and the moment each kind of temp file appears (in the middle of a write), both on a
// fresh machine and during an upgrade 1.9.0 → 1.9.1 — where the old version must keep running or
// the new one must. Against the built CLI, a real systemd user manager and a real release server.
//
// Seed: VM_CRASH_SEED (default below); every random run's label carries it and its delay.

import { randomBytes } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { livekitHealth } from '../helpers/health.js';
import { checkManaged, findTemps, managedPaths, standinVersionOf, type ManagedCheck, type ManagedPaths } from '../helpers/managed.js';
import { startReleaseServer, type ReleaseServer } from '../helpers/release-server.js';
import { startUserManager, userManagerAvailable, type UserManager } from '../helpers/systemd.js';
import { startThrottleProxy, type ThrottleProxy } from '../helpers/throttle-proxy.js';
import { freePorts, livekitEntry, runVm, servicesFile, spawnVm, standinScript, type VmChild, type VmChildResult } from '../kit/index.js';

const UNIT = 'voicemode-livekit.service';
const SECRET_A = 'crash-safety-secret-A-0123456789abcdefghijkl';
const SECRET_B = 'crash-safety-secret-B-0123456789abcdefghijkl';
const SECRET_C = 'crash-safety-secret-C-0123456789abcdefghijkl';
const SEED = Number(process.env['VM_CRASH_SEED'] ?? 4242);
const RANDOM_RUNS = 8;

let um: UserManager;
let rel: ReleaseServer;
let slow: ThrottleProxy;
let env: Record<string, string>;
let port: number;
let tcpPort: number;
let specPath: string;
let mp: ManagedPaths;

/** What the runs saw, printed at the end (and used in the report). */
const stats = {
  runs: 0,
  killed: 0,
  finishedBeforeKill: 0,
  /** Mid-write kills after which the file being written was still unfinished (its temp not yet renamed). */
  midWrite: [] as string[],
  /** Temp files each kill left (new ones only), and their kinds. */
  tempsLeft: 0,
  tempNames: new Set<string>(),
  /** Kills after which the apply lock was left behind (the next apply must take it over). */
  locksLeft: 0,
  /** Where the random kills landed: steps done when vm died. */
  randomLanded: [] as string[],
  ms: 0,
};
let tempsBefore = new Set<string>();

interface Spec {
  version?: string;
  rangeEnd?: number;
  secret?: string;
  slow?: boolean;
}

function spec(o: Spec = {}): string {
  const livekit = livekitEntry({
    version: o.version ?? '1.9.0',
    install: { method: 'release', base_url: o.slow === true ? slow.baseUrl : rel.baseUrl },
    port,
    bind_addresses: ['127.0.0.1'],
    rtcRange: [53000, o.rangeEnd ?? 53100],
    tcpPort,
    keys: { apikey1: o.secret ?? SECRET_A },
    health: '15s',
  });
  return servicesFile({ livekit }, { supervisor: 'systemd' });
}
const A: Spec = {};
const B: Spec = { version: '1.9.1', rangeEnd: 53200, secret: SECRET_B };

const vm = (...args: string[]) => runVm(args, env);

const health = () => livekitHealth(port);

async function waitHealth(timeoutMs = 15_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let last = await health();
  while (last !== '200 OK' && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    last = await health();
  }
  return last;
}

async function mainPid(): Promise<number> {
  const r = await um.systemctl('show', UNIT, '-p', 'MainPID', '--value');
  return Number(r.stdout.trim()) || 0;
}

/** A machine vm never touched: no unit, nothing under ~/.voicemode. */
async function resetFresh(): Promise<void> {
  await um.systemctl('stop', UNIT);
  await um.systemctl('disable', UNIT);
  await rm(mp.voicemodeHome, { recursive: true, force: true });
  await rm(mp.unitFile, { force: true });
  await rm(mp.wantsLink, { force: true });
  await um.systemctl('daemon-reload');
  await um.systemctl('reset-failed', UNIT);
}

/** Converged on 1.9.0 (spec A), by vm itself: asserted, since it is also vm healing what a kill left. */
async function resetToA(label: string): Promise<void> {
  await writeFile(specPath, spec(A));
  const r = await vm('apply', '--yes');
  expect(r.code, `${label}: apply back to 1.9.0\n${r.stdout}${r.stderr}`).toBe(0);
}

/** The upgrade B also rewrites a hand-edited unit, so every kind of write happens in it. */
async function prepareUpgrade(o: Spec = B): Promise<void> {
  const unit = await readFile(mp.unitFile, 'utf8');
  await writeFile(mp.unitFile, unit.replace('RestartSec=2', 'RestartSec=3'));
  await writeFile(specPath, spec(o));
}

/** The test-only hook: apply SIGKILLs itself right before step n (0-based). */
const killerEnv = (n: number) => ({ ...env, VM_TEST_KILL_BEFORE_STEP: String(n) });
const doneSteps = (out: string) => (out.match(/ done \(/g) ?? []).length;
/** Where a random kill landed: 'planning' (before the first step), the number of steps done, or 'finished'. */
const landed = (r: VmChildResult) => (r.signal !== 'SIGKILL' ? 'finished' : r.stdout.includes('Applying:') ? `${doneSteps(r.stdout)}` : 'planning');

/**
 * After the kill: every managed file is whole and holds one of the contents it may hold (`allowed`,
 * by path; absent is always allowed). Returns the check for the counts.
 */
async function expectWhole(label: string, allowed: ReadonlyMap<string, ReadonlySet<string>>): Promise<ManagedCheck> {
  const c = await checkManaged(mp);
  expect(c.problems, `${label}: broken managed files`).toEqual([]);
  if (await lstat(mp.lock).then(() => true, () => false)) stats.locksLeft++;
  for (const [path, content] of c.contents) {
    const ok = allowed.get(path);
    if (ok !== undefined) expect(ok.has(content), `${label}: ${path} holds neither the old nor the new content:\n${content}`).toBe(true);
  }
  const fresh = c.temps.filter((t) => !tempsBefore.has(t));
  stats.tempsLeft += fresh.length;
  for (const t of fresh) stats.tempNames.add(t.slice(t.lastIndexOf('/') + 1).replace(/\.vm-backup-[^.]*\.[^.]*\./, '.vm-backup-*.').replace(/(vm-tmp-|tmp-).*/, '$1*'));
  return c;
}

/** The next apply converges, a fresh plan is empty and LiveKit answers 200 OK — temp files or not. */
async function expectHeals(label: string, version: string): Promise<void> {
  const r = await vm('apply', '--yes');
  expect(r.code, `${label}: the apply after the kill\n${r.stdout}${r.stderr}`).toBe(0);
  // The dead apply's lock is taken over at once, not waited for.
  expect(r.stderr, label).not.toContain('waiting for the apply lock');
  const p = await vm('plan', '--detailed-exitcode');
  expect(p.code, `${label}: plan after healing\n${p.stdout}`).toBe(0);
  expect(await health(), label).toBe('200 OK');
  // The process runs what is on disk now: started after the files it uses were written.
  expect(await standinVersionOf(await mainPid()), `${label}: version running after healing`).toBe(version);
  const after = await checkManaged(mp);
  expect(after.problems, label).toEqual([]);
  expect(after.linkVersion, label).toBe(version);
  // Neither file is ever edited by hand here: a backup of one means vm took its own file for a hand edit.
  const backups = (await readdir(mp.dir)).filter((n) => /^(livekit|keys)\.yaml\.vm-backup-/.test(n));
  expect(backups, `${label}: backups of files nobody edited`).toEqual([]);
}

/** Starts `vm apply --yes`, noting the temp files already there (left by earlier kills). */
async function startApply(e: Record<string, string>): Promise<VmChild> {
  tempsBefore = new Set(await findTemps(mp.roots));
  return spawnVm(['apply', '--yes'], e);
}

/**
 * vm still knows its own files: after healing, a change to the config and the key file is not
 * taken for a hand edit (no "edited by hand", no backup) — i.e. vm's record of what it wrote
 * survived the kill. Neither file is ever edited by hand in these runs.
 */
async function expectOwnFiles(label: string, healedOn: Spec): Promise<void> {
  await writeFile(specPath, spec({ ...healedOn, rangeEnd: 53300, secret: SECRET_C }));
  const p = await vm('plan', '--json');
  await writeFile(specPath, spec(healedOn));
  const steps = (JSON.parse(p.stdout) as { steps: Array<{ reason: string }> }).steps;
  const mine = steps.filter((s) => s.reason.startsWith(`${mp.config}:`) || s.reason.startsWith(`${mp.keyFile}:`));
  expect(mine.length, `${label}: the next change plans both files\n${p.stdout}`).toBe(2);
  for (const s of mine) expect(s.reason, `${label}: vm took its own file for a hand edit`).not.toContain('edited by hand');
}

async function finish(child: VmChild, label: string): Promise<VmChildResult> {
  const r = await child.done;
  stats.runs++;
  if (r.signal === 'SIGKILL') stats.killed++;
  else {
    stats.finishedBeforeKill++;
    expect(r.code, `${label}: finished before the kill, so it must have succeeded\n${r.stdout}${r.stderr}`).toBe(0);
  }
  return r;
}

/** Allowed contents: old (may be absent) and new, read once the machine has converged on the new. */
function allowedOf(old: ReadonlyMap<string, string>, neu: ReadonlyMap<string, string>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const path of [mp.config, mp.keyFile, mp.unitFile]) {
    const s = new Set<string>();
    for (const m of [old, neu]) {
      const v = m.get(path);
      if (v !== undefined) s.add(v);
    }
    out.set(path, s);
  }
  return out;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * SIGKILLs `child` the moment a file whose name matches appears in one of `dirs` (inotify), i.e. in
 * the middle of the write that made it. Returns what fired.
 */
function killOnFile(child: VmChild, dirs: readonly string[], match: RegExp): { fired: () => string | undefined; stop: () => void } {
  let fired: string | undefined;
  const watchers: FSWatcher[] = [];
  for (const d of dirs) {
    watchers.push(
      watch(d, (_ev, name) => {
        if (fired !== undefined || name === null || !match.test(name)) return;
        child.kill();
        fired = join(d, name);
      }),
    );
  }
  return { fired: () => fired, stop: () => watchers.forEach((w) => w.close()) };
}

describe.skipIf(!userManagerAvailable())('kill -9 of vm apply', () => {
  // Fresh-machine contents once converged on A, and A's and B's converged contents for upgrades.
  let freshFinal: Map<string, string>;
  let contentsA: Map<string, string>;
  let contentsB: Map<string, string>;
  let freshSteps = 0;
  let upgradeSteps = 0;

  beforeAll(async () => {
    um = await startUserManager();
    [port, tcpPort] = (await freePorts(2)) as [number, number];
    // Incompressible padding before livekit-server in each archive: a ~0.5 MB download, which
    // the slow proxy stretches to about a second, so random kills land in it.
    const padding = [{ name: 'PADDING', content: randomBytes(384 * 1024).toString('base64') }];
    rel = await startReleaseServer({
      releases: [
        { version: '1.9.0', binary: standinScript({ version: '1.9.0', readyAfterMs: 200 }), extraMembers: padding },
        { version: '1.9.1', binary: standinScript({ version: '1.9.1', readyAfterMs: 200 }), extraMembers: padding },
      ],
    });
    slow = await startThrottleProxy(rel.baseUrl, 512 * 1024);
    specPath = `${um.env.HOME}/voicemode.services.yaml`;
    env = { ...um.env, VOICEMODE_SERVICES_FILE: specPath };
    mp = managedPaths(env);
    await mkdir(um.env.HOME, { recursive: true });
  });

  afterAll(async () => {
    // Never cleaned up by vm: what all the kills above left on this machine in the end.
    const remaining = mp === undefined ? [] : await findTemps(mp.roots);
    await um?.systemctl('stop', UNIT);
    await um?.stop();
    await slow?.close();
    await rel?.close();
    console.log(
      `crash-safety (seed ${SEED}): ${stats.runs} killed applies, ${stats.killed} died by SIGKILL, ${stats.finishedBeforeKill} finished first; ` +
        `${stats.locksLeft} left the apply lock behind; ` +
        `random kills landed after [${stats.randomLanded.join(', ')}] steps; ` +
        `killed with the write unfinished on disk: ${stats.midWrite.length} (${stats.midWrite.join('; ')}); ` +
        `${stats.tempsLeft} temp files left by the kills (${[...stats.tempNames].join(', ')}), ${remaining.length} still there at the end; ` +
        `${(stats.ms / 1000).toFixed(1)} s`,
    );
  });

  it('a fresh apply is 9 steps, and converging on it gives the contents kills are checked against', async () => {
    await resetFresh();
    await writeFile(specPath, spec(A));
    const p = await vm('plan', '--json');
    const steps = (JSON.parse(p.stdout) as { steps: Array<{ resource: string; action: string }> }).steps;
    freshSteps = steps.length;
    expect(steps.map((s) => `${s.resource} ${s.action}`)).toEqual([
      'binary install',
      'config create',
      'config create',
      'unit create',
      'unit create',
      'unit daemon-reload',
      'unit enable',
      'running start',
      'healthy wait-healthy',
    ]);
    expect((await vm('apply', '--yes')).code).toBe(0);
    contentsA = (await checkManaged(mp)).contents;
    freshFinal = contentsA;
  });

  it('killed before each step of a fresh apply: no partial file, and the next apply converges', { timeout: 180_000 }, async () => {
    const t0 = Date.now();
    expect(freshSteps, 'the step count from `vm plan --json`').toBe(9);
    for (let n = 0; n < freshSteps; n++) {
      const label = `fresh, killed before step ${n}`;
      await resetFresh();
      const r = await finish(await startApply(killerEnv(n)), label);
      expect(r.signal, `${label}\n${r.stdout}${r.stderr}`).toBe('SIGKILL');
      expect(doneSteps(r.stdout), `${label}: steps done before the kill\n${r.stdout}`).toBe(n);
      await expectWhole(label, allowedOf(new Map(), freshFinal));
      await expectHeals(label, '1.9.0');
      await expectOwnFiles(label, A);
    }
    stats.ms += Date.now() - t0;
  });

  it(`killed after a random delay (seed ${SEED}), some while a slow download is in flight: no partial file, and the next apply converges`, { timeout: 180_000 }, async () => {
    const t0 = Date.now();
    const rnd = mulberry32(SEED);
    for (let i = 0; i < RANDOM_RUNS; i++) {
      const delay = Math.floor(rnd() * 1500);
      const slowLink = i % 2 === 0;
      const label = `fresh, random run ${i} (seed ${SEED}): killed after ${delay} ms${slowLink ? ', slow download' : ''}`;
      await resetFresh();
      await writeFile(specPath, spec({ ...A, slow: slowLink }));
      const child = await startApply(env);
      const timer = setTimeout(() => child.kill(), delay);
      const r = await finish(child, label).finally(() => clearTimeout(timer));
      stats.randomLanded.push(landed(r));
      // No managed file names the base URL: the slow link's converged contents are the same.
      await expectWhole(label, allowedOf(new Map(), freshFinal));
      await writeFile(specPath, spec(A));
      await expectHeals(label, '1.9.0');
      await expectOwnFiles(label, A);
    }
    stats.ms += Date.now() - t0;
  });

  it('the upgrade 1.9.0 → 1.9.1 (with a config, key and hand-edited unit change) has 7 steps', async () => {
    await resetToA('baseline');
    contentsA = (await checkManaged(mp)).contents;
    await prepareUpgrade();
    const p = await vm('plan', '--json');
    const steps = (JSON.parse(p.stdout) as { steps: Array<{ resource: string; action: string }> }).steps;
    upgradeSteps = steps.length;
    expect(steps.map((s) => `${s.resource} ${s.action}`)).toEqual([
      'binary install',
      'config update',
      'config update',
      'unit update',
      'unit daemon-reload',
      'running restart',
      'healthy wait-healthy',
    ]);
    const pid = await mainPid();
    expect((await vm('apply', '--yes')).code).toBe(0);
    expect(await mainPid()).not.toBe(pid);
    contentsB = (await checkManaged(mp)).contents;
  });

  /** During an upgrade: the old contents are A's, but the unit's old content is the hand-edited one. */
  const upgradeAllowed = () => {
    const old = new Map(contentsA);
    old.set(mp.unitFile, (contentsA.get(mp.unitFile) ?? '').replace('RestartSec=2', 'RestartSec=3'));
    return allowedOf(old, contentsB);
  };

  it('killed before each step of an upgrade: the old version keeps running (or the new one is), and the next apply converges', { timeout: 180_000 }, async () => {
    const t0 = Date.now();
    expect(upgradeSteps, 'the step count from `vm plan --json`').toBe(7);
    for (let n = 0; n < upgradeSteps; n++) {
      const label = `upgrade, killed before step ${n}`;
      await resetToA(label);
      const oldPid = await mainPid();
      await prepareUpgrade();
      const r = await finish(await startApply(killerEnv(n)), label);
      expect(r.signal, `${label}\n${r.stdout}${r.stderr}`).toBe('SIGKILL');
      expect(doneSteps(r.stdout), label).toBe(n);
      await expectWhole(label, upgradeAllowed());
      const pid = await mainPid();
      if (n < upgradeSteps - 1) {
        // Not restarted yet: the old process serves on, untouched.
        expect(pid, label).toBe(oldPid);
        expect(await standinVersionOf(pid), label).toBe('1.9.0');
        expect(await health(), label).toBe('200 OK');
      } else {
        expect(await standinVersionOf(pid), label).toBe('1.9.1');
        expect(await waitHealth(), label).toBe('200 OK');
      }
      await expectHeals(label, '1.9.1');
      await expectOwnFiles(label, B);
    }
    stats.ms += Date.now() - t0;
  });

  it(`killed at a random moment of an upgrade (seed ${SEED}): one version or the other runs, and the next apply converges`, { timeout: 180_000 }, async () => {
    const t0 = Date.now();
    const rnd = mulberry32(SEED + 1);
    for (let i = 0; i < RANDOM_RUNS / 2; i++) {
      const delay = Math.floor(rnd() * 1500);
      const slowLink = i % 2 === 1;
      const label = `upgrade, random run ${i} (seed ${SEED}): killed after ${delay} ms${slowLink ? ', slow download' : ''}`;
      await resetToA(label);
      await prepareUpgrade({ ...B, slow: slowLink });
      const child = await startApply(env);
      const timer = setTimeout(() => child.kill(), delay);
      const r = await finish(child, label).finally(() => clearTimeout(timer));
      stats.randomLanded.push(landed(r));
      await expectWhole(label, upgradeAllowed());
      // A restart may have been under way when vm died: systemd finishes it.
      expect(await waitHealth(), label).toBe('200 OK');
      expect(['1.9.0', '1.9.1'], label).toContain(await standinVersionOf(await mainPid()));
      await writeFile(specPath, spec(B));
      await expectHeals(label, '1.9.1');
      await expectOwnFiles(label, B);
    }
    stats.ms += Date.now() - t0;
  });

  // The moment each kind of temp file appears, vm is in the middle of that write.
  const midWrite: Array<[string, () => string, RegExp]> = [
    ['the archive download', () => mp.versionsDir, /^\.livekit_1\.9\.1_linux_.*\.tar\.gz\.tmp-/],
    ['the binary link switch', () => mp.dir, /^livekit-server\.tmp-/],
    ['the config write', () => mp.dir, /^\.livekit\.yaml\.vm-tmp-/],
    ['the key file write', () => mp.dir, /^\.keys\.yaml\.vm-tmp-/],
    ["the hand-edited unit's backup", () => mp.unitDir, /^\.voicemode-livekit\.service\.vm-backup-.*\.vm-tmp-/],
    ['the unit write', () => mp.unitDir, /^\.voicemode-livekit\.service\.vm-tmp-/],
    ["vm's record of what it wrote", () => join(mp.voicemodeHome, 'state'), /^\.written\.json\.vm-tmp-/],
    // Created, maybe not yet written: the next apply must still take it over.
    ['taking the apply lock', () => join(mp.voicemodeHome, 'state'), /^apply\.lock$/],
  ];

  it('killed in the middle of each kind of write of an upgrade: the managed path holds the old or the new file, and the next apply converges', { timeout: 180_000 }, async () => {
    const t0 = Date.now();
    const missed: string[] = [];
    for (const [what, dir, match] of midWrite) {
      const label = `upgrade, killed during ${what}`;
      await resetToA(label);
      await prepareUpgrade();
      const child = await startApply(env);
      const k = killOnFile(child, [dir()], match);
      await finish(child, label).finally(() => k.stop());
      const fired = k.fired();
      if (fired === undefined) missed.push(what);
      else if (await lstat(fired).then(() => true, () => false)) stats.midWrite.push(what);
      await expectWhole(label, upgradeAllowed());
      expect(await waitHealth(), label).toBe('200 OK');
      await expectHeals(label, '1.9.1');
      await expectOwnFiles(label, B);
    }
    expect(missed, 'temp files that never appeared (so no kill happened there)').toEqual([]);
    stats.ms += Date.now() - t0;
  });
});
