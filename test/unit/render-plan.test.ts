// The plan as a person reads it: colour on a terminal only, the same text without it, and the
// "Run `vm apply`" hint only where it helps (not in apply's own plan, just before it asks).

import { describe, expect, it } from 'vitest';
import { colorWanted } from '../../src/cli/color.js';
import { renderPlan } from '../../src/cli/render-plan.js';
import type { Step } from '../../src/model.js';
import type { Snapshot } from '../../src/reconcile.js';

const ESC = '\x1b[';
const steps: Step[] = [
  { service: 'livekit', resource: 'config', action: 'create', reason: '/h/livekit.yaml: missing', effect: { kind: 'mkdir', path: '/h', mode: 0o700 } },
  { service: 'livekit', resource: 'running', action: 'restart', reason: 'pid 4 must restart to use the new setup: config changed', effect: { kind: 'mkdir', path: '/h', mode: 0o700 } },
  { service: 'livekit', resource: 'unit', action: 'remove', reason: 'state: absent', effect: { kind: 'remove', path: '/h/u' } },
];
const snap = (over: Partial<Snapshot['plan']> = {}): Snapshot =>
  ({
    roots: {},
    leftovers: [],
    clients: { steps: [], blockers: [], warnings: [], notes: [] },
    services: [{ name: 'livekit', plan: { steps } }],
    plan: { supervisor: { kind: 'systemd', why: 'a systemd user manager answers' }, steps, blockers: [], warnings: ['lingering is off'], notes: [], ...over },
  }) as unknown as Snapshot;
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

describe('renderPlan', () => {
  it('has no escape codes without colour', async () => {
    const text = await renderPlan(snap(), '/h/voicemode.services.yaml');
    expect(text).not.toContain(ESC);
    expect(text).toContain('  + config   create        /h/livekit.yaml: missing');
    expect(text).toContain('warning: lingering is off');
  });

  it('colours the symbols, actions and labels with colour on, and says the same', async () => {
    const plain = await renderPlan(snap({ blockers: ['port 7880 is in use'] }), 'f');
    const coloured = await renderPlan(snap({ blockers: ['port 7880 is in use'] }), 'f', { color: true });
    expect(strip(coloured)).toBe(plain);
    expect(coloured).toContain(`${ESC}32m+${ESC}39m config   ${ESC}32mcreate       ${ESC}39m`); // adds green
    expect(coloured).toContain(`${ESC}36m>${ESC}39m`); // restarts cyan
    expect(coloured).toContain(`${ESC}31m-${ESC}39m`); // removals red
    expect(coloured).toContain(`${ESC}33mwarning:${ESC}39m lingering is off`);
    expect(coloured).toContain(`${ESC}31mblocked:${ESC}39m port 7880 is in use`);
  });

  it('ends with the hint to run apply, except when apply draws it', async () => {
    expect(await renderPlan(snap(), 'f')).toContain('Plan: 3 steps for livekit (create, restart, remove). Run `vm apply` to take them.\n');
    const inApply = await renderPlan(snap(), 'f', { applyHint: false });
    expect(inApply).toContain('Plan: 3 steps for livekit (create, restart, remove).\n');
    expect(inApply).not.toContain('vm apply');
  });
});

describe('colorWanted', () => {
  it('is on for a terminal, off when piped', () => {
    expect(colorWanted(true, {})).toBe(true);
    expect(colorWanted(false, {})).toBe(false);
  });

  it('is off with NO_COLOR or TERM=dumb, and FORCE_COLOR turns it on even when piped', () => {
    expect(colorWanted(true, { NO_COLOR: '1' })).toBe(false);
    expect(colorWanted(true, { NO_COLOR: '' })).toBe(true); // set but empty: not a request (no-color.org)
    expect(colorWanted(true, { TERM: 'dumb' })).toBe(false);
    expect(colorWanted(false, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorWanted(true, { FORCE_COLOR: '0' })).toBe(false);
  });
});
