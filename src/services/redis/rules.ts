// A redis service's rules the schema cannot express: its bind addresses are IPs, and beyond
// loopback it needs a password (Redis has authentication, requirepass, but none by default).

import { valueAt } from '../../spec/messages.js';
import { describeExposure } from '../../spec/exposure.js';
import { checkBindAddresses, checkHealthTimeout, needsHome, type Entry, type RuleContext } from '../../spec/rule-kit.js';

export function redisRules(ws: Entry, ctx: RuleContext): void {
  const open = checkBindAddresses(ws, ctx, ['127.0.0.1']);
  if (open !== undefined && ws['password'] === undefined) {
    ctx.report(`${ctx.at}/bind_addresses/${open.index}`, `${ctx.name} would listen on ${describeExposure(open)} without a password: anyone who can reach it could read and change it; set password (text, { env: NAME } or { file: PATH }), or listen on 127.0.0.1 only`);
  }
  needsHome(ctx, `${ctx.at}/install/path`, valueAt(ws, '/install/path'));
  checkHealthTimeout(ws, ctx);
}
