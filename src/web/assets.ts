// The page's files, built by scripts/build.mjs into dist/web/ (app.js bundles livekit-client, so
// the page works offline: no CDN).

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../assets.js';
import { UserError } from '../errors.js';
import type { PageAssets } from './server.js';

export async function loadPageAssets(): Promise<PageAssets> {
  const dir = join(packageRoot(), 'dist', 'web');
  try {
    const [html, js, css] = await Promise.all(['index.html', 'app.js', 'app.css'].map((f) => readFile(join(dir, f), 'utf8')));
    return { html: html as string, js: js as string, css: css as string };
  } catch (e) {
    throw new UserError('USAGE', `the web page is not built (${(e as Error).message}): run \`npm run build\` in vm's directory`);
  }
}
