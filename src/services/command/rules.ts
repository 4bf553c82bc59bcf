// The supervised HTTP services' rules (command, and the whisper and kokoro presets) that the
// schema cannot express:
//   - a bind address must be a valid IP; beyond loopback needs allow_insecure (these services
//     have no authentication at all: Voice Mode's whisper once listened on 0.0.0.0);
//   - whisper's model is { path } or { url, sha256 }, and a url passes the download policy;
//   - a command's program is an absolute or ~/ path; `~/` needs HOME;
//   - `command:` belongs to kind: command only (a preset renders its own command line).

import { baseUrlProblem } from '../../platform/url-policy.js';
import { show, valueAt } from '../../spec/messages.js';
import { checkBindAddresses, checkHealthTimeout, isMap, needsHome, refuseOpenWithoutAuth, type Entry, type RuleContext } from '../../spec/rule-kit.js';

export function httpRules(kind: string, ws: Entry, ctx: RuleContext): void {
  const { at, report } = ctx;
  refuseOpenWithoutAuth(ws, ctx, checkBindAddresses(ws, ctx, ['127.0.0.1']));
  needsHome(ctx, `${at}/install/path`, valueAt(ws, '/install/path'));
  needsHome(ctx, `${at}/working_dir`, ws['working_dir']);
  needsHome(ctx, `${at}/model/path`, valueAt(ws, '/model/path'));

  const model = ws['model'];
  if (isMap(model)) {
    const has = (k: string) => typeof model[k] === 'string';
    if (has('path') && (has('url') || has('sha256'))) report(`${at}/model`, 'model takes either path (a file you have) or url with sha256 (vm downloads it), not both');
    else if (has('url') && !has('sha256')) report(`${at}/model`, 'model.url needs model.sha256, so vm can check the download before using it (sha256sum FILE prints it)');
    else if (has('sha256') && !has('url')) report(`${at}/model/sha256`, 'model.sha256 is only used with model.url');
    else if (!has('path') && !has('url')) report(`${at}/model`, 'model needs path, or url and sha256');
    if (typeof model['url'] === 'string') {
      const why = baseUrlProblem(model['url']);
      if (why !== undefined) report(`${at}/model/url`, `model.url is not acceptable: ${why}`);
    }
  }
  const command = ws['command'];
  if (Array.isArray(command) && typeof command[0] === 'string') {
    const program = command[0];
    if (!program.startsWith('/') && !program.startsWith('~/')) report(`${at}/command/0`, `command[0] must be the program's absolute path or start with ~/ (got ${show(program)}); vm does not search PATH`);
    needsHome(ctx, `${at}/command/0`, program);
  }
  if (kind !== 'command' && ws['command'] !== undefined) report(`${at}/command`, `command is only used with kind: command; ${ctx.name}'s command line comes from its own fields`, 'key');
  checkHealthTimeout(ws, ctx);
}
