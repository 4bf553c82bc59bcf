// LiveKit's client config files (`clients:` in the file), as fragments of files the user also
// edits (src/resources/managed-fragment.ts): a marked block in Voice Mode's env file, and a
// project in lk's ~/.livekit/cli-config.yaml (FACTS.md, "LiveKit's clients"). Pure.

import type { ClientsDesired } from '../../model.js';
import type { LiveKitDesired, LiveKitObserved } from './model.js';
import type { PlanContext } from '../../plan/context.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../../resources/managed-file.js';
import type { FragmentWant } from '../../resources/managed-fragment.js';
import { renderBlock, type EnvVar } from '../../resources/marked-block.js';
import { localConnection } from './local-connection.js';

export const BLOCK_NAME = 'livekit';
/** lk's project list: `projects: [{name, url, api_key, api_secret, project_id?}]`, `default_project`. */
export const LK_PROJECT_FIELDS = ['name', 'url', 'api_key', 'api_secret'] as const;

export function livekitClientFragments(d: LiveKitDesired, o: LiveKitObserved, ctx: PlanContext, clients: ClientsDesired, providers: readonly EnvVar[]): FragmentWant[] {
  if (clients.envFile === undefined && clients.lkProject === undefined) return [];
  const c = localConnection(d, o.keyFile, ctx.freshSecret);
  const out: FragmentWant[] = [];
  if (clients.envFile !== undefined) {
    // The three variables Voice Mode's LiveKit transport reads (≤ v7), then its provider lists.
    const vars: EnvVar[] = [
      { key: 'LIVEKIT_URL', value: c.url, sensitive: false },
      { key: 'LIVEKIT_API_KEY', value: c.apiKey, sensitive: false },
      { key: 'LIVEKIT_API_SECRET', value: c.apiSecret, sensitive: true },
      ...providers,
    ];
    out.push({
      path: clients.envFile,
      edit: { format: 'marked-block', name: BLOCK_NAME, value: renderBlock(BLOCK_NAME, vars) },
      mode: PRIVATE_FILE_MODE,
      dirMode: PRIVATE_DIR_MODE,
      tightenDir: false,
      plain: new Set(vars.filter((v) => !v.sensitive).map((v) => v.key)),
    });
  }
  if (clients.lkProject !== undefined) {
    out.push({
      path: clients.lkProject.configFile,
      edit: {
        format: 'yaml-entry',
        list: 'projects',
        nameKey: 'name',
        name: clients.lkProject.name,
        defaultKey: 'default_project',
        fields: LK_PROJECT_FIELDS,
        value: { url: c.url, api_key: c.apiKey, api_secret: c.apiSecret },
      },
      // lk keeps its config owner-only, in an owner-only directory.
      mode: PRIVATE_FILE_MODE,
      dirMode: PRIVATE_DIR_MODE,
      tightenDir: true,
      plain: new Set(['name', 'url', 'api_key', 'project_id']),
    });
  }
  return out;
}
