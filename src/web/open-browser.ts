// `vm web --open`: hands the page to the desktop's browser. The URL carries the launch key, and
// a command line is visible to every user on the machine (ps), so the browser is given a private
// file (0600, in a 0700 directory) that redirects to the URL, as Jupyter does.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Resolves with a cleanup function; rejects when no opener could be started. */
export async function openBrowser(url: string, platform: NodeJS.Platform): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'vm-web-'));
  const file = join(dir, 'open.html');
  const html = `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${escapeHtml(url)}"><title>vm web</title><p><a href="${escapeHtml(url)}">Open vm web</a></p>\n`;
  await writeFile(file, html, { mode: 0o600 });
  const opener = platform === 'darwin' ? 'open' : 'xdg-open';
  await new Promise<void>((resolve, reject) => {
    const child = spawn(opener, [file], { stdio: 'ignore', detached: true });
    child.once('error', (e) => reject(new Error(`${opener}: ${e.message}`)));
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
  return () => rm(dir, { recursive: true, force: true });
}
