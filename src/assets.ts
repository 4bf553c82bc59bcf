// Files shipped with vm (templates/, schemas/), found relative to the package root so the same
// code works from src/ (tests) and from the bundle in dist/.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'templates'))) return (root = dir);
    dir = dirname(dir);
  }
  throw new Error(`vm is installed incompletely: no templates/ above ${fileURLToPath(import.meta.url)}`);
}

export function readAsset(rel: string): string {
  return readFileSync(join(packageRoot(), rel), 'utf8');
}
