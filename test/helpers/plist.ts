// Reads a plist the way macOS would: with Python's plistlib, a real plist parser (python3 is on
// every machine these tests run on; there is no plutil here).

import { execFileSync } from 'node:child_process';

export function parsePlist(text: string): Record<string, unknown> {
  const py = 'import json, plistlib, sys\nprint(json.dumps(plistlib.loads(sys.stdin.buffer.read())))';
  return JSON.parse(execFileSync('python3', ['-c', py], { input: text, encoding: 'utf8' })) as Record<string, unknown>;
}
