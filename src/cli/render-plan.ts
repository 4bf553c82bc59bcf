// Draws a plan for a person. The data is the same the JSON renderer prints.
// `diff` is imported only when there is a file change to draw.

import type { FileChange, Step, StepAction } from '../model.js';
import type { Snapshot } from '../reconcile.js';

const MARK: Record<StepAction, string> = {
  install: '+',
  create: '+',
  update: '~',
  'daemon-reload': '~',
  reload: '~',
  enable: '~',
  disable: '~',
  start: '>',
  restart: '>',
  stop: '-',
  remove: '-',
  'wait-healthy': '?',
};

export async function renderPlan(snap: Snapshot, source: string): Promise<string> {
  const p = snap.plan;
  const lines: string[] = [`Desired state: ${source}`];
  for (const n of p.notes) lines.push(`note: ${n}`);
  const sup = snap.plan.supervisor;
  if (sup !== undefined) lines.push(`Supervisor: ${sup.kind === 'unavailable' ? `none (${sup.why})` : `${sup.kind} (${sup.why})`}`);
  for (const w of p.warnings) lines.push(`warning: ${w}`);
  for (const b of p.blockers) lines.push(`blocked: ${b}`);
  for (const svc of [...snap.services, { name: 'clients', plan: snap.clients }]) {
    if (svc.plan.steps.length === 0) continue;
    lines.push('', `${svc.name}:`);
    for (const s of svc.plan.steps) {
      lines.push(`  ${stepLine(s)}`);
      if (s.change !== undefined) lines.push(...(await renderDiff(s.change)).map((l) => `      ${l}`));
    }
  }
  lines.push('', summary(snap));
  return `${lines.join('\n')}\n`;
}

export function stepLine(s: Step): string {
  return `${MARK[s.action]} ${s.resource.padEnd(8)} ${s.action.padEnd(13)} ${s.reason}`;
}

export function summary(snap: Snapshot): string {
  const p = snap.plan;
  if (p.blockers.length > 0) return `Blocked: ${p.blockers.length} problem${p.blockers.length === 1 ? '' : 's'} to fix by hand (above); apply would refuse.`;
  if (p.steps.length === 0) return converged(snap);
  const counts = new Map<string, number>();
  for (const s of p.steps) counts.set(s.action, (counts.get(s.action) ?? 0) + 1);
  const parts = [...counts].map(([a, n]) => (n === 1 ? a : `${a} ×${n}`)).join(', ');
  const names = [...snap.services.filter((s) => s.plan.steps.length > 0).map((s) => s.name), ...(snap.clients.steps.length > 0 ? ['clients'] : [])];
  return `Plan: ${p.steps.length} step${p.steps.length === 1 ? '' : 's'} for ${names.join(', ')} (${parts}). Run \`vm apply\` to take them.`;
}

function converged(snap: Snapshot): string {
  if (snap.services.length === 0) return 'No changes: nothing to manage.';
  const each = snap.services.map((s) => {
    const rt = s.observed.runtime;
    if (rt?.running === true) return `${s.name} is converged (running, pid ${rt.pid}, healthy)`;
    return `${s.name} is converged (${rt === undefined || s.desired.state === 'absent' ? 'not installed' : `not running: ${rt.state}`})`;
  });
  return `No changes: ${each.join('; ')}.`;
}

async function renderDiff(c: FileChange): Promise<string[]> {
  const { createTwoFilesPatch } = await import('diff');
  const patch = createTwoFilesPatch(c.before === undefined ? '/dev/null' : c.path, c.path, c.before ?? '', c.after, '', '', { context: 2 });
  // Keep ---/+++ and the hunks; drop jsdiff's "Index:"/"=====" preamble and empty headers' tabs.
  return patch
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('Index: ') && !/^=+$/.test(l) && !l.startsWith('\\ No newline'))
    .map((l) => (l.startsWith('--- ') || l.startsWith('+++ ') ? l.trimEnd() : l));
}
