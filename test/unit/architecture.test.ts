// The boundary the registry promises (README, Architecture): the core reaches a kind only through
// src/services/registry.ts and the contract, so a new kind is its folder and one registry entry.
// Read from the sources as text: a new import of a kind's module from outside breaks this test.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KIND_NAMES } from '../../src/services/registry.js';

const SRC = resolve(import.meta.dirname, '..', '..', 'src');
const SERVICES = join(SRC, 'services');

/** The built-in default (no file found) is a LiveKit: its defaults are LiveKit's own. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  'services/registry.ts': KIND_NAMES.map((k) => `services/${k}/index.ts`),
  'spec/default.ts': ['services/livekit/defaults.ts'],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'generated' || name === 'page' ? [] : sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The kind folder a source file belongs to, or undefined for the core. */
function kindOfFile(path: string): string | undefined {
  const rel = relative(SERVICES, path);
  if (rel.startsWith('..')) return undefined;
  const [first, second] = rel.split('/');
  return second === undefined ? undefined : first;
}

describe('the core reaches kinds only through the registry', () => {
  it('no module outside a kind’s folder imports from it, but the registry (and the built-in default)', () => {
    const crossings: string[] = [];
    for (const file of sources(SRC)) {
      const from = relative(SRC, file);
      const own = kindOfFile(file);
      // Static imports (and re-exports), and dynamic import() of a relative path.
      for (const m of readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'";]*from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]/gm)) {
        const target = resolve(dirname(file), (m[1] ?? m[2] ?? '').replace(/\.js$/, '.ts'));
        const kind = kindOfFile(target);
        if (kind === undefined || kind === own) continue;
        // Presets are built over command (whisper, kokoro): a kind may build on another kind.
        if (own !== undefined) continue;
        const to = relative(SRC, target);
        if (!(ALLOWED[from] ?? []).includes(to)) crossings.push(`${from} → ${to}`);
      }
    }
    expect(crossings).toEqual([]);
  });

  it('every registered kind is a folder with its contract (index.ts) and its schema part', () => {
    for (const k of KIND_NAMES) {
      expect(statSync(join(SERVICES, k, 'index.ts')).isFile(), k).toBe(true);
      expect(statSync(join(SERVICES, k, 'schema.json')).isFile(), k).toBe(true);
    }
  });
});
