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
  const changes: string[] = [];
  return (e) => {
    const t = new Date(now()).toISOString().slice(11, 19);
    switch (e.event) {
      case 'watch_start':
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
        changes.push(`${e.resource} ${e.action}`);
        return;
      case 'step_failed':
        changes.push(`${e.resource} ${e.action} FAILED`);
        return;
      case 'backoff':
        out.write(`${t} ${e.message ?? ''}\n`);
        return;
      case 'reconcile_done': {
        // A no-op resync says nothing: a line every 30 s would drown what matters.
        if (changes.length > 0 || e.ok === false) {
          const what = changes.length > 0 ? changes.join(', ') : 'no change';
          out.write(`${t} reconcile (${e.trigger ?? '?'}): ${what} — ${e.ok === false ? `failed: ${e.message ?? ''}` : 'ok'} in ${e.duration_ms ?? 0} ms\n`);
        }
        changes.length = 0;
        return;
      }
      case 'reconcile_start':
      case 'step_start':
        return;
    }
  };
}
