// What `vm watch` tells: one JSON object per line (--json), flushed as it happens, or one short
// line per reconcile for a person. No secret reaches an event: reasons come from the plan, which
// never holds one.

import type { Output } from '../cli/io.js';

export type WatchEventName =
  | 'watch_start'
  | 'reconcile_start'
  | 'drift'
  | 'step_start'
  | 'step_done'
  | 'step_failed'
  | 'reconcile_done'
  | 'invalid_file'
  | 'backoff'
  | 'gave_up'
  | 'held_back'
  | 'lock_wait'
  | 'log_rotated'
  | 'watch_stopping'
  | 'watch_stop';

export interface WatchEvent {
  readonly event: WatchEventName;
  readonly service?: string;
  readonly resource?: string;
  readonly action?: string;
  readonly reason?: string;
  readonly ok?: boolean;
  readonly duration_ms?: number;
  /** What started a reconcile: start | file | interval | signal. */
  readonly trigger?: string;
  readonly message?: string;
}

export type Emit = (e: WatchEvent) => void;

export function eventSink(out: Output, json: boolean, now: () => number = Date.now): Emit {
  if (json) return (e) => out.write(`${JSON.stringify({ ts: new Date(now()).toISOString(), ...e })}\n`);
  const done: string[] = [];
  let stepFailed = false;
  return (e) => {
    const t = new Date(now()).toISOString().slice(11, 19);
    switch (e.event) {
      case 'watch_start':
      case 'watch_stopping':
      case 'watch_stop':
      case 'invalid_file':
      case 'gave_up':
      case 'held_back':
      case 'lock_wait':
      case 'log_rotated':
        out.write(`${t} ${e.message ?? e.event}\n`);
        return;
      case 'drift':
        out.write(`${t} drift: ${e.message ?? ''}\n`);
        return;
      case 'step_done':
        done.push(`${e.resource} ${e.action}`);
        return;
      case 'step_failed':
        // The reconcile's own message names the step and why; saying FAILED here too repeats it.
        stepFailed = true;
        return;
      case 'backoff':
        out.write(`${t} ${e.message ?? ''}\n`);
        return;
      case 'reconcile_done': {
        const ms = `${e.duration_ms ?? 0} ms`;
        // A no-op resync says nothing: a line every 30 s would drown what matters.
        if (e.ok !== false && done.length > 0) out.write(`${t} reconcile (${e.trigger ?? '?'}): ${done.join(', ')} — ok in ${ms}\n`);
        else if (e.ok === false && stepFailed) out.write(`${t} reconcile (${e.trigger ?? '?'}): ${done.length > 0 ? `${done.join(', ')}, then ` : ''}${e.message ?? 'a step failed'} (${ms})\n`);
        else if (e.ok === false) out.write(`${t} reconcile (${e.trigger ?? '?'}) failed: ${e.message ?? ''} (${ms})\n`);
        done.length = 0;
        stepFailed = false;
        return;
      }
      case 'reconcile_start':
      case 'step_start':
        return;
    }
  };
}

/** `30s`, `500ms`, `2m`, `1m30s`: how a person writes --interval. */
export function showDuration(ms: number): string {
  if (ms < 1000 || ms % 1000 !== 0) return `${ms}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m${s % 60 === 0 ? '' : `${s % 60}s`}`;
}
