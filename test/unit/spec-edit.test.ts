// The verbs' edit of voicemode.services.yaml: one value changes, every other byte stays.

import { describe, expect, it } from 'vitest';
import { declaredServices, hasServiceKey, redactSpecText, setServiceKeys } from '../../src/spec/edit.js';
import { validateText } from '../../src/spec/load.js';
import { initFileText } from '../../src/spec/default.js';

/** The text before and after the one changed span must be identical: returns the two spans. */
function changedSpan(a: string, b: string): { before: string; after: string } {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  let j = 0;
  while (j < a.length - i && j < b.length - i && a[a.length - 1 - j] === b[b.length - 1 - j]) j++;
  return { before: a.slice(i, a.length - j), after: b.slice(i, b.length - j) };
}

const FILE = `# my voice services   (hand-written)
version: 1
supervisor: auto              # auto | systemd

services:
  livekit:
    state: running            # running | stopped | absent
    version: '1.9.0'
    keys:
      devkey: "a-very-secret-value-0123456789abcdef"   # inline
      other: { env: LK_SECRET }
    fallback: { url: "wss://x.livekit.cloud", api_key: APIxyz, api_secret: 'cloud-secret-0123456789' }

  # whisper, quoted state
  whisper:
    state: "running"
    port: 2022
  kokoro: { state: running, port: 8880 }
  mine:
    port: 9000   # no state yet
`;

describe('setServiceKeys', () => {
  it('changes only the value: comments, blank lines, key order and quoting elsewhere are byte-identical', () => {
    const r = setServiceKeys(FILE, 'livekit', [['state', 'stopped']]);
    expect(r.changed).toBe(true);
    expect(changedSpan(FILE, r.text)).toEqual({ before: 'running', after: 'stopped' });
  });

  it('keeps a trailing comment in its column when the value gets shorter', () => {
    const r = setServiceKeys(FILE, 'livekit', [['state', 'absent']]);
    expect(r.text).toContain('    state: absent             # running | stopped | absent\n');
    expect(r.text.replace('state: absent             #', 'state: running            #')).toBe(FILE);
  });

  it('keeps the quoting style of the old value', () => {
    const r = setServiceKeys(FILE, 'whisper', [['state', 'stopped']]);
    expect(changedSpan(FILE, r.text)).toEqual({ before: 'running', after: 'stopped' });
    expect(r.text).toContain('    state: "stopped"\n');
  });

  it('edits a flow map in place', () => {
    const r = setServiceKeys(FILE, 'kokoro', [['state', 'stopped']]);
    expect(r.text).toContain('  kokoro: { state: stopped, port: 8880 }\n');
    expect(changedSpan(FILE, r.text)).toEqual({ before: 'running', after: 'stopped' });
  });

  it('adds a key the service does not have yet, indented like its neighbours, and nothing else', () => {
    const r = setServiceKeys(FILE, 'mine', [['autostart', false]]);
    expect(changedSpan(FILE, r.text).after).toBe('autostart: false\n    ');
    expect(r.text).toContain('  mine:\n    autostart: false\n    port: 9000   # no state yet\n');
    const flow = setServiceKeys(FILE, 'kokoro', [['autostart', true]]);
    expect(flow.text).toContain('  kokoro: { autostart: true, state: running, port: 8880 }\n');
  });

  it('fills an empty flow map and a service with no body', () => {
    expect(setServiceKeys('version: 1\nservices:\n  livekit: {}\n', 'livekit', [['state', 'stopped']]).text).toBe('version: 1\nservices:\n  livekit: { state: stopped }\n');
    expect(setServiceKeys('version: 1\nservices:\n  livekit:\n', 'livekit', [['state', 'stopped']]).text).toBe('version: 1\nservices:\n  livekit: { state: stopped }\n');
  });

  it('says when nothing changes, and leaves the text as it was', () => {
    const r = setServiceKeys(FILE, 'livekit', [['state', 'running']]);
    expect(r).toEqual({ text: FILE, changed: false });
  });

  it('refuses an undeclared service, naming the declared ones', () => {
    expect(() => setServiceKeys(FILE, 'nope', [['state', 'stopped']])).toThrow(/no service named "nope"/);
    try {
      setServiceKeys(FILE, '../etc', [['state', 'stopped']]);
    } catch (e) {
      expect((e as { hint?: string }).hint).toBe('declared: livekit, whisper, kokoro, mine');
    }
    expect(declaredServices(FILE)).toEqual(['livekit', 'whisper', 'kokoro', 'mine']);
    expect(hasServiceKey(FILE, 'mine', 'state')).toBe(false);
    expect(hasServiceKey(FILE, 'whisper', 'state')).toBe(true);
  });

  it('keeps the default file written by vm init valid and otherwise identical', () => {
    const text = initFileText('./schemas/voicemode.services.schema.json');
    for (const [key, value] of [['state', 'stopped'], ['state', 'absent'], ['autostart', false]] as const) {
      const r = setServiceKeys(text, 'livekit', [[key, value]]);
      expect(r.changed).toBe(true);
      const span = changedSpan(text, r.text);
      expect(span.after.trim()).toMatch(new RegExp(String(value)));
      const d = validateText(r.text, 'voicemode.services.yaml', {});
      expect((d.services['livekit'] as unknown as Record<string, unknown>)[key === 'autostart' ? 'autostart' : 'state']).toBe(value);
    }
  });
});

describe('redactSpecText', () => {
  it('shows inline secrets under keys and fallback.api_secret as (sensitive), and references as they are', () => {
    const r = redactSpecText(FILE);
    expect(r).not.toContain('a-very-secret-value');
    expect(r).not.toContain('cloud-secret');
    expect(r).toContain('devkey: (sensitive)   # inline');
    expect(r).toContain('other: { env: LK_SECRET }');
    expect(r).toContain('api_secret: (sensitive) }');
  });
});
