// The managed fragment with plain strings: a marked block in a dotenv file and a project in lk's
// cli-config.yaml are set, replaced and removed without changing any other byte, and planning
// them never shows a secret.

import { createHmac } from 'node:crypto';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { FileState, FragmentEdit, WrittenRecord } from '../../src/model.js';
import type { ServicePlan } from '../../src/services/contract.js';
import { applyFragmentEdit, fragmentKey, locatorOf, planFragment, recordedFragments, type FragmentWant } from '../../src/resources/managed-fragment.js';
import { dotenvValue, findBlock, renderBlock, setBlock } from '../../src/resources/marked-block.js';
import { findEntry, setEntry } from '../../src/resources/yaml-entry.js';

const SECRET = 'fragment-secret-never-shown-0123456789abcdef';
const vars = (secret = SECRET) => [
  { key: 'LIVEKIT_URL', value: 'ws://127.0.0.1:7880', sensitive: false },
  { key: 'LIVEKIT_API_KEY', value: 'devkey', sensitive: false },
  { key: 'LIVEKIT_API_SECRET', value: secret, sensitive: true },
];
const BLOCK = renderBlock('livekit', vars());

describe('marked block', () => {
  it('is appended after the last line, which gets the newline it lacked, and nothing else changes', () => {
    const user = 'OPENAI_API_KEY=sk-user\n# my comment\nVOICEMODE_DEBUG=true';
    const out = setBlock(user, 'livekit', BLOCK);
    expect(out).toBe(`${user}\n${BLOCK}`);
    expect(setBlock(undefined, 'livekit', BLOCK)).toBe(BLOCK);
  });

  it('is replaced in place and removed, keeping every byte before and after it', () => {
    const before = 'A=1\r\n# keep me\n\n';
    const after = 'B=2\n  C = "x y"\n';
    const text = `${before}${BLOCK}${after}`;
    const newer = renderBlock('livekit', vars('another-secret-0123456789abcdefghijklmn'));
    expect(setBlock(text, 'livekit', newer)).toBe(`${before}${newer}${after}`);
    expect(setBlock(text, 'livekit', undefined)).toBe(`${before}${after}`);
    // Removing what is not there changes nothing.
    expect(setBlock(`${before}${after}`, 'livekit', undefined)).toBe(`${before}${after}`);
  });

  it('holds KEY=VALUE lines without export, quoted only where needed', () => {
    expect(BLOCK).toMatch(/^# >>> vm: livekit >>>\n# Managed by vm/);
    expect(BLOCK).toContain(`\nLIVEKIT_API_SECRET=${SECRET}\n`);
    expect(BLOCK).not.toMatch(/export /);
    expect(BLOCK.endsWith('# <<< vm: livekit <<<\n')).toBe(true);
    expect(dotenvValue('ws://127.0.0.1:7880')).toBe('ws://127.0.0.1:7880');
    expect(dotenvValue('a b#c')).toBe("'a b#c'");
    expect(dotenvValue("it's")).toBe('"it\'s"');
    expect(() => dotenvValue('a\nb')).toThrow(/line break/);
  });

  it('refuses to guess where an unterminated block ends', () => {
    const text = 'A=1\n# >>> vm: livekit >>>\nLIVEKIT_URL=x\nB=2\n';
    expect(findBlock(text, 'livekit')).toEqual({ kind: 'unterminated', line: 2 });
    expect(() => setBlock(text, 'livekit', BLOCK)).toThrow(/has no/);
  });
});

const LK_CONFIG = `# lk's projects (my comment)
default_project: cloud
projects:
  # the cloud one
  - name: cloud
    url: wss://my-project.livekit.cloud
    api_key: APIcloud
    api_secret: cloudsecret
    project_id: p_123
other_key: kept # trailing comment
`;
const REF = { list: 'projects', nameKey: 'name', name: 'voicemode', defaultKey: 'default_project' } as const;
const VALUE = { url: 'ws://127.0.0.1:7880', api_key: 'devkey', api_secret: SECRET };

describe('yaml entry (lk cli-config.yaml)', () => {
  it('adds a project beside another one, keeping its comments, keys and the default', () => {
    const out = setEntry(LK_CONFIG, REF, VALUE);
    expect(out.startsWith(LK_CONFIG.replace('other_key: kept # trailing comment\n', ''))).toBe(true);
    expect(out).toContain('# the cloud one');
    expect(out).toContain('other_key: kept # trailing comment');
    const j = parse(out) as { default_project: string; projects: Array<Record<string, string>> };
    expect(j.default_project).toBe('cloud');
    expect(j.projects).toEqual([
      { name: 'cloud', url: 'wss://my-project.livekit.cloud', api_key: 'APIcloud', api_secret: 'cloudsecret', project_id: 'p_123' },
      { name: 'voicemode', ...VALUE },
    ]);
    // Removing it gives back the file as it was.
    expect(setEntry(out, REF, undefined)).toBe(LK_CONFIG);
  });

  it('sets default_project only when none is, and drops it with the project it names', () => {
    const fresh = setEntry(undefined, REF, VALUE);
    expect(parse(fresh)).toEqual({ default_project: 'voicemode', projects: [{ name: 'voicemode', ...VALUE }] });
    const empty = setEntry('default_project: ""\nprojects: []\n', REF, VALUE);
    expect(parse(empty)).toEqual({ default_project: 'voicemode', projects: [{ name: 'voicemode', ...VALUE }] });
    expect(parse(setEntry(fresh, REF, undefined))).toEqual({ projects: [] });
  });

  it('updates only the keys vm manages in an existing entry', () => {
    const text = 'projects:\n  - name: voicemode\n    url: ws://old:1\n    project_id: mine # note\n';
    const out = setEntry(text, REF, VALUE);
    expect(out).toContain('project_id: mine # note');
    expect(findEntry(out, REF)).toEqual({ kind: 'found', fields: { name: 'voicemode', url: VALUE.url, project_id: 'mine', api_key: 'devkey', api_secret: SECRET } });
  });

  it('does not rewrite what it cannot read', () => {
    expect(findEntry('projects: {a: 1}\n', REF)).toEqual({ kind: 'invalid', why: '`projects` is not a list' });
    expect(findEntry('[1, 2]\n', REF).kind).toBe('invalid');
    expect(() => setEntry('a: [\n', REF, VALUE)).toThrow(/not valid YAML/);
  });
});

const hmac = (salt: string, data: string) => createHmac('sha256', salt).update(data).digest('hex');
const file = (content: string, mode = 0o600): FileState => ({ exists: true, content, mode, mtimeMs: 1 });
const envWant = (secret = SECRET): FragmentWant => ({
  path: '/h/.voicemode/voicemode.env',
  edit: { format: 'marked-block', name: 'livekit', value: renderBlock('livekit', vars(secret)) },
  mode: 0o600,
  dirMode: 0o700,
  tightenDir: false,
  plain: new Set(['LIVEKIT_URL', 'LIVEKIT_API_KEY']),
});
const lkWant: FragmentWant = {
  path: '/h/.livekit/cli-config.yaml',
  edit: { format: 'yaml-entry', ...REF, fields: ['name', 'url', 'api_key', 'api_secret'], value: VALUE },
  mode: 0o600,
  dirMode: 0o700,
  tightenDir: true,
  plain: new Set(['name', 'url', 'api_key']),
};

function planOne(want: FragmentWant | undefined, observed: FileState, written: WrittenRecord, at = want === undefined ? undefined : locatorOf(want.edit), force = false): ServicePlan {
  const out: ServicePlan = { steps: [], blockers: [], warnings: [], notes: [] };
  const path = want?.path ?? (at?.format === 'yaml-entry' ? lkWant.path : '/h/.voicemode/voicemode.env');
  planFragment(out, { service: 'clients', path, at: at ?? locatorOf(envWant().edit), observed: { file: observed, dirMode: 0o700 }, want, own: { written, salt: 'salt', stateFile: '/h/state/written.json', hmac, force } });
  return out;
}

/** vm's record after applying `p`'s steps. */
function recorded(p: ServicePlan): WrittenRecord {
  const files: Record<string, string> = {};
  for (const s of p.steps) if (s.effect.kind === 'write-fragment' && s.effect.record.digest !== undefined) files[s.effect.record.key] = s.effect.record.digest;
  return { salt: 'salt', files };
}

describe('planning a fragment', () => {
  it('shows a diff without the secret, and converges once applied', () => {
    for (const want of [envWant(), lkWant]) {
      const startText = 'USER=1\n';
      const start = file(startText, 0o644);
      const p = planOne(want, want.tightenDir ? { exists: false } : start, { salt: undefined, files: {} });
      expect(p.steps).toHaveLength(1);
      const step = p.steps[0]!;
      expect(JSON.stringify({ reason: step.reason, change: step.change })).not.toContain(SECRET);
      expect(step.change?.after).toContain('(sensitive)');
      const e = step.effect;
      if (e.kind !== 'write-fragment') throw new Error('expected a fragment write');
      const text = applyFragmentEdit(want.tightenDir ? undefined : startText, e.edit);
      expect(planOne(want, file(text), recorded(p)).steps).toEqual([]);
      expect(recordedFragments(recorded(p)).map((r) => r.path)).toEqual([want.path]);
    }
  });

  it('keeps a hand edit inside the block as a backup, and says why without the secret', () => {
    const mine = planOne(envWant(), file('A=1\n'), { salt: undefined, files: {} });
    const text = applyFragmentEdit('A=1\n', (mine.steps[0]!.effect as { edit: FragmentEdit }).edit).replace(`SECRET=${SECRET}`, 'SECRET=hand-typed-secret');
    const p = planOne(envWant(), file(text), recorded(mine));
    expect(p.steps[0]?.reason).toMatch(/LIVEKIT_API_SECRET: \(sensitive\) changed; edited by hand: the file is kept as voicemode\.env\.vm-backup-TIMESTAMP/);
    expect(p.steps[0]?.effect).toMatchObject({ kind: 'write-fragment', backup: true });
    expect(JSON.stringify(p.steps[0]?.change)).not.toMatch(/hand-typed-secret|fragment-secret/);
  });

  it('removes only a fragment vm wrote, and does not overwrite a project it did not', () => {
    const w = planOne(lkWant, { exists: false }, { salt: undefined, files: {} });
    const text = applyFragmentEdit(LK_CONFIG, (w.steps[0]!.effect as { edit: FragmentEdit }).edit);
    const at = locatorOf(lkWant.edit);
    const gone = planOne(undefined, file(text), recorded(w), at);
    const e = gone.steps[0]?.effect;
    expect(gone.steps[0]).toMatchObject({ resource: 'client', action: 'remove' });
    if (e?.kind !== 'write-fragment') throw new Error('expected a fragment write');
    expect(e.record).toMatchObject({ key: fragmentKey(lkWant.path, at), digest: undefined });
    expect(applyFragmentEdit(text, e.edit)).toBe(LK_CONFIG);
    // A "voicemode" project vm never wrote: blocked without --force, backed up with it.
    const foreign = setEntry(LK_CONFIG, REF, { ...VALUE, url: 'wss://elsewhere' });
    expect(planOne(lkWant, file(foreign), { salt: 'salt', files: {} }).blockers[0]).toMatch(/vm did not write: vm does not overwrite it without --force/);
    expect(planOne(lkWant, file(foreign), { salt: 'salt', files: {} }, undefined, true).steps[0]?.effect).toMatchObject({ backup: true });
    expect(planOne(undefined, file(foreign), { salt: 'salt', files: {} }, at).steps).toEqual([]);
  });
});
