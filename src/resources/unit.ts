// A systemd user unit, rendered from a template shipped in templates/ and one ServiceSpec. Pure.
// Every value is escaped for systemd (systemd-escape.ts): nothing from the user's file can start
// a new line or a directive.

import type { ServiceSpec } from '../model.js';
import { envAssignment, execArg, pathValue } from './systemd-escape.js';

export function renderUnit(template: string, svc: ServiceSpec): string {
  const env = Object.entries(svc.env ?? {});
  const values: Record<string, string> = {
    exec_start: [svc.binary, ...svc.args].map(execArg).join(' '),
    log_file: pathValue(svc.logFile),
    title: (svc.title ?? svc.name).replace(/[^A-Za-z0-9 ._-]/g, '_'),
    working_dir: pathValue(svc.workingDir ?? '~'),
    environment: env.length === 0 ? '' : `Environment=${env.map(([k, v]) => envAssignment(k, v)).join(' ')}`,
  };
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`unit template has an unknown placeholder {{${name}}}`);
    return v;
  });
}
