// `vm watch` for a person: one line per reconcile that did something, saying a failure once.

import { describe, expect, it } from 'vitest';
import { eventSink, showDuration, type WatchEvent } from '../../src/watch/events.js';

function lines(events: WatchEvent[]): string[] {
  let out = '';
  const emit = eventSink({ write: (s: string) => (out += s) }, false, () => Date.parse('2026-01-01T12:00:00Z'));
  for (const e of events) emit(e);
  return out.split('\n').filter(Boolean);
}

describe('human watch output', () => {
  it('lists what a reconcile changed, once it is done', () => {
    expect(
      lines([
        { event: 'reconcile_start', trigger: 'file' },
        { event: 'step_done', resource: 'config', action: 'update' },
        { event: 'step_done', resource: 'running', action: 'restart' },
        { event: 'reconcile_done', trigger: 'file', ok: true, duration_ms: 812 },
      ]),
    ).toEqual(['12:00:00 reconcile (file): config update, running restart — ok in 812 ms']);
  });

  it('says a failed step once: what was done, then the step and why', () => {
    const out = lines([
      { event: 'step_done', resource: 'binary', action: 'install' },
      { event: 'step_failed', resource: 'running', action: 'restart', message: 'x' },
      { event: 'reconcile_done', trigger: 'file', ok: false, duration_ms: 4100, message: 'livekit running restart failed: LiveKit exited while starting; rolled back' },
    ]);
    expect(out).toEqual(['12:00:00 reconcile (file): binary install, then livekit running restart failed: LiveKit exited while starting; rolled back (4100 ms)']);
    expect(out[0]).not.toMatch(/FAILED|failed: step failed/);
  });

  it('says a failure with no step (blocked) as a failed reconcile', () => {
    expect(lines([{ event: 'reconcile_done', trigger: 'start', ok: false, duration_ms: 40, message: 'port 7880 is in use' }])).toEqual(['12:00:00 reconcile (start) failed: port 7880 is in use (40 ms)']);
  });

  it('a no-op resync prints nothing', () => {
    expect(lines([{ event: 'reconcile_start', trigger: 'interval' }, { event: 'reconcile_done', trigger: 'interval', ok: true, duration_ms: 3 }])).toEqual([]);
  });
});

describe('showDuration', () => {
  it('writes durations as --interval takes them', () => {
    expect([500, 1_000, 30_000, 60_000, 90_000, 300_000, 1_500].map(showDuration)).toEqual(['500ms', '1s', '30s', '1m', '1m30s', '5m', '1500ms']);
  });
});
