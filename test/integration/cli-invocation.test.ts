// The hints vm prints ("run `vm plan`") name a command that works where the user is: `vm` only
// when that is on PATH and is this vm. Real files in a temp dir; the built CLI for the end-to-end
// case.

import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hinter, invocation } from '../../src/cli/invocation.js';
import { ROOT, runVm } from '../kit/index.js';

let t = '';
let script = '';

beforeAll(() => {
  t = realpathSync(mkdtempSync(join(tmpdir(), 'vm-invocation-')));
  // An installation: <t>/clone/bin/vm.cjs, executable.
  script = join(t, 'clone', 'bin', 'vm.cjs');
  mkdirSync(join(t, 'clone', 'src'), { recursive: true });
  mkdirSync(join(t, 'clone', 'bin'));
  writeFileSync(script, '#!/usr/bin/env node\n', { mode: 0o755 });
  // A global bin dir linking to it (what `npm link` / `npm install -g` make) and another holding
  // an unrelated `vm`.
  mkdirSync(join(t, 'linked'));
  symlinkSync(script, join(t, 'linked', 'vm'));
  mkdirSync(join(t, 'other'));
  writeFileSync(join(t, 'other', 'vm'), '#!/bin/sh\n', { mode: 0o755 });
  mkdirSync(join(t, 'not-executable'));
  writeFileSync(join(t, 'not-executable', 'vm'), '#!/bin/sh\n', { mode: 0o644 });
  mkdirSync(join(t, 'elsewhere'));
});

afterAll(() => rmSync(t, { recursive: true, force: true }));

describe('invocation', () => {
  it('is `vm` when the first vm on PATH is this one (through its link)', () => {
    expect(invocation(script, { PATH: `/usr/bin:${t}/linked:${t}/other` }, join(t, 'elsewhere'))).toBe('vm');
    expect(invocation(join(t, 'linked', 'vm'), { PATH: `${t}/linked` }, '/')).toBe('vm');
  });

  it('is not `vm` when the first vm on PATH is another program; skips one that is not executable', () => {
    expect(invocation(script, { PATH: `${t}/other:${t}/linked` }, join(t, 'elsewhere'))).toBe(script);
    expect(invocation(script, { PATH: `${t}/not-executable:${t}/linked` }, join(t, 'elsewhere'))).toBe('vm');
  });

  it('inside the clone, without vm on PATH, is `npx vm` (npm runs the project\'s own bin there)', () => {
    expect(invocation(script, { PATH: '/usr/bin:/bin' }, join(t, 'clone'))).toBe('npx vm');
    expect(invocation(script, { PATH: '/usr/bin:/bin' }, join(t, 'clone', 'src'))).toBe('npx vm');
    expect(invocation(script, {}, join(t, 'clone'))).toBe('npx vm');
  });

  it('elsewhere, without vm on PATH, is the absolute path of the entry point, quoted when it must be', () => {
    expect(invocation(script, { PATH: '/usr/bin:/bin' }, join(t, 'elsewhere'))).toBe(script);
    // A sibling whose name starts like the clone's is not inside it.
    mkdirSync(join(t, 'clone-2'), { recursive: true });
    expect(invocation(script, { PATH: '' }, join(t, 'clone-2'))).toBe(script);
    const spaced = join(t, "my vm's", 'bin', 'vm.cjs');
    mkdirSync(join(t, "my vm's", 'bin'), { recursive: true });
    writeFileSync(spaced, '', { mode: 0o755 });
    chmodSync(spaced, 0o755);
    expect(invocation(spaced, { PATH: '' }, '/')).toBe(`'${t}/my vm'\\''s/bin/vm.cjs'`);
  });
});

describe('hinter', () => {
  it('rewrites each "`vm " and asks how only once, and only when a hint is written', () => {
    let asked = 0;
    const hint = hinter(() => (asked++, 'npx vm'));
    expect(hint('livekit: converged')).toBe('livekit: converged');
    expect(asked).toBe(0);
    expect(hint('Run `vm apply` to take them; `vm plan --json` for data. vm stays vm.')).toBe('Run `npx vm apply` to take them; `npx vm plan --json` for data. vm stays vm.');
    expect(hint('then `vm status`')).toBe('then `npx vm status`');
    expect(asked).toBe(1);
  });

  it('leaves the text alone when vm is on PATH', () => {
    expect(hinter(() => 'vm')('Run `vm apply`.')).toBe('Run `vm apply`.');
  });
});

describe('the built CLI', () => {
  it('`vm init` outside the clone, with no vm on PATH, names the entry point it ran from', async () => {
    const home = join(t, 'home');
    mkdirSync(home);
    const r = await runVm(['init'], { HOME: home, PATH: '/usr/bin:/bin' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`wrote ${home}/voicemode.services.yaml\nnext: \`${realpathSync(`${ROOT}bin/vm.cjs`)} plan -f voicemode.services.yaml\` to see what apply would do\n`);
  });

  it('`vm init` with this vm linked on PATH says `vm plan`', async () => {
    const home = join(t, 'home-linked');
    mkdirSync(join(home, 'bin'), { recursive: true });
    symlinkSync(`${ROOT}bin/vm.cjs`, join(home, 'bin', 'vm'));
    const r = await runVm(['init'], { HOME: home, PATH: `${home}/bin:/usr/bin:/bin` });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('next: `vm plan -f voicemode.services.yaml`');
  });

  it('`vm plan` rewrites its hints but not the file contents it shows; --json stays `vm`', async () => {
    const home = join(t, 'home-plan');
    mkdirSync(home);
    const bin = realpathSync(`${ROOT}bin/vm.cjs`);
    const env = { HOME: home, PATH: '/usr/bin:/bin', VOICEMODE_HOME: join(home, '.voicemode') };
    const human = await runVm(['plan'], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`note: no voicemode.services.yaml found: using the built-in default (LiveKit on 127.0.0.1 with a generated key); \`${bin} init\` writes it as a file`);
    expect(human.stdout).toMatch(new RegExp(`Run \`${bin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} apply\` to take them\.\n$`));
    // The diff shows the config exactly as apply will write it.
    expect(human.stdout).toContain('+# Managed by vm (Voice Mode). `vm apply` rewrites this file: change voicemode.services.yaml instead.');
    const json = await runVm(['plan', '--json'], env);
    expect(JSON.parse(json.stdout).notes).toEqual(['no voicemode.services.yaml found: using the built-in default (LiveKit on 127.0.0.1 with a generated key); `vm init` writes it as a file']);
  });
});
