// Draws a plan for a person. The data is the same the JSON renderer prints.
// `diff` is imported only when there is a file change to draw. Colour (a TTY's only) marks what
// kind of change each step is and the states; the text is the same without it.

import type { FileChange, Step, StepAction } from '../model.js';
import type { Snapshot } from '../reconcile.js';
import { palette, type Paint, type Palette } from './color.js';

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

export interface RenderOptions {
  /** ANSI colour (stdout is a terminal and NO_COLOR is unset). */
  readonly color?: boolean;
  /** End with "Run `vm apply` to take them." (default); apply, about to ask, leaves it out. */
  readonly applyHint?: boolean;
  /** Rewrites "`vm …`" in vm's own words (notes, warnings, summary), never in the diffs. */
  readonly hint?: (text: string) => string;
}

export async function renderPlan(snap: Snapshot, source: string, o: RenderOptions = {}): Promise<string> {
  const c = palette(o.color);
  const hint = o.hint ?? ((t: string) => t);
  const p = snap.plan;
  const lines: string[] = [`Desired state: ${source}`];
  for (const n of p.notes) lines.push(`${c.dim('note:')} ${hint(n)}`);
  const sup = snap.plan.supervisor;
  if (sup !== undefined) lines.push(`Supervisor: ${sup.kind === 'unavailable' ? `${c.red('none')} (${sup.why})` : `${sup.kind} (${sup.why})`}`);
  for (const w of p.warnings) lines.push(`${c.yellow('warning:')} ${hint(w)}`);
  for (const b of p.blockers) lines.push(`${c.red('blocked:')} ${hint(b)}`);
  for (const svc of [...snap.services, { name: 'clients', plan: snap.clients }]) {
    if (svc.plan.steps.length === 0) continue;
    lines.push('', c.bold(`${svc.name}:`));
    for (const s of svc.plan.steps) {
      lines.push(`  ${stepLine(s, o.color)}`);
      if (s.change !== undefined) lines.push(...(await renderDiff(s.change)).map((l) => `      ${diffPaint(l, c)(l)}`));
    }
  }
  lines.push('', hint(summary(snap, o)));
  return `${lines.join('\n')}\n`;
}

export function stepLine(s: Step, color?: boolean): string {
  const paint = markPaint(s.action, palette(color));
  return `${paint(MARK[s.action])} ${s.resource.padEnd(8)} ${paint(s.action.padEnd(13))} ${s.reason}`;
}

export function summary(snap: Snapshot, o: RenderOptions = {}): string {
  const c = palette(o.color);
  const p = snap.plan;
  if (p.blockers.length > 0) return `${c.red('Blocked:')} ${p.blockers.length} problem${p.blockers.length === 1 ? '' : 's'} to fix by hand (above); apply would refuse.`;
  if (p.steps.length === 0) return converged(snap, c);
  const counts = new Map<string, number>();
  for (const s of p.steps) counts.set(s.action, (counts.get(s.action) ?? 0) + 1);
  const parts = [...counts].map(([a, n]) => (n === 1 ? a : `${a} ×${n}`)).join(', ');
  const names = [...snap.services.filter((s) => s.plan.steps.length > 0).map((s) => s.name), ...(snap.clients.steps.length > 0 ? ['clients'] : [])];
  const hint = o.applyHint === false ? '' : ' Run `vm apply` to take them.';
  return `${c.bold('Plan:')} ${p.steps.length} step${p.steps.length === 1 ? '' : 's'} for ${names.join(', ')} (${parts}).${hint}`;
}

function converged(snap: Snapshot, c: Palette): string {
  if (snap.services.length === 0) return `${c.green('No changes:')} nothing to manage.`;
  const each = snap.services.map((s) => {
    const rt = s.observed.runtime;
    if (rt?.running === true) return `${s.name} is converged (${c.green('running')}, pid ${rt.pid}, ${c.green('healthy')})`;
    return `${s.name} is converged (${rt === undefined || s.desired.state === 'absent' ? 'not installed' : `${c.yellow('not running')}: ${rt.state}`})`;
  });
  return `${c.green('No changes:')} ${each.join('; ')}.`;
}

/** Adds green, changes yellow, (re)starts cyan, removals red, waits dim. */
function markPaint(a: StepAction, c: Palette): Paint {
  switch (MARK[a]) {
    case '+':
      return c.green;
    case '~':
      return c.yellow;
    case '>':
      return c.cyan;
    case '-':
      return c.red;
    default:
      return c.dim;
  }
}

function diffPaint(l: string, c: Palette): Paint {
  if (l.startsWith('+++ ') || l.startsWith('--- ')) return c.bold;
  if (l.startsWith('@@')) return c.cyan;
  if (l.startsWith('+')) return c.green;
  if (l.startsWith('-')) return c.red;
  return (s) => s;
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
