// The record of what each binary answered to --version (src/services/livekit/version-record.ts),
// against real files in a temp directory through the real host.

import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeHost } from '../../src/platform/node-host.js';
import { observeBinary } from '../../src/services/livekit/observe.js';
import { fileIdentity, parseVersionRecord, recordVersion } from '../../src/services/livekit/version-record.js';

const dir = mkdtempSync(join(tmpdir(), 'vm-versions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const host = nodeHost({ PATH: process.env['PATH'] });

/** A fake livekit-server that counts its runs in `<path>.runs`. */
function binary(name: string, version: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\necho run >> '${path}.runs'\necho "livekit-server version ${version}"\n`, { mode: 0o755 });
  return path;
}
const runs = (path: string) => {
  try {
    return readFileSync(`${path}.runs`, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
};

describe('the version record', () => {
  it('reads garbage, another format or a missing file as empty, never as an error', () => {
    expect(parseVersionRecord({ exists: false }).size).toBe(0);
    for (const content of ['{', '[]', 'null', '{"format":2,"binaries":{}}', '{"format":1,"binaries":{"/x":{"identity":1,"version":"1.9.0"}}}', '{"format":1,"binaries":{"/x":{"identity":"1:2:3","version":"v1"}}}']) {
      expect(parseVersionRecord({ exists: true, content, mode: 0o600, mtimeMs: 0 }).size, content).toBe(0);
    }
  });

  it('lets observe skip running a binary it names, and only that very file', async () => {
    const bin = binary('lk-a', '1.9.0');
    const record = join(dir, 'state-a', 'versions.json');
    const first = await observeBinary(host, bin, false, undefined, record);
    expect(first).toMatchObject({ kind: 'present', version: '1.9.0' });
    expect(runs(bin)).toBe(1);
    await recordVersion(host, record, first);
    expect(statSync(record).mode & 0o777).toBe(0o600);
    expect(await observeBinary(host, bin, false, undefined, record)).toEqual(first);
    expect(runs(bin)).toBe(1);
    // Replaced by another version: another file (inode, size, mtime), so it is run again.
    const other = binary('lk-a.new', '1.10.0');
    rmSync(bin);
    writeFileSync(bin, readFileSync(other), { mode: 0o755 });
    const again = await observeBinary(host, bin, false, undefined, record);
    expect(again).toMatchObject({ kind: 'present', version: '1.10.0' });
  });

  it('is written only when it would say something new', async () => {
    const bin = binary('lk-b', '1.9.0');
    const record = join(dir, 'state-b', 'versions.json');
    const seen = await observeBinary(host, bin, false, undefined, record);
    await recordVersion(host, record, seen);
    const m1 = statSync(record).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    await recordVersion(host, record, seen);
    expect(statSync(record).mtimeMs).toBe(m1);
    const j = JSON.parse(readFileSync(record, 'utf8')) as { binaries: Record<string, { identity: string; version: string }> };
    expect(j.binaries[bin]).toEqual({ identity: fileIdentity(statSync(bin)), version: '1.9.0' });
  });

  it('records nothing for an absent or broken binary', async () => {
    const record = join(dir, 'state-c', 'versions.json');
    await recordVersion(host, record, { kind: 'absent', path: '/nope' });
    await recordVersion(host, record, { kind: 'broken', path: '/nope', detail: 'exit 1' });
    expect(() => statSync(record)).toThrow();
  });
});
