// The download progress line as a terminal shows it: redrawn in place, never wrapping at 80
// columns, in KiB below 1 MiB and MiB above.

import { describe, expect, it } from 'vitest';
import { CLEAR_LINE, formatAmount, formatProgress, progressPrinter } from '../../src/cli/progress.js';

const KiB = 1024;
const MiB = 1024 * 1024;
/** What a terminal keeps of the last draw: the text after the last clear. */
const visible = (s: string) => s.slice(s.lastIndexOf(CLEAR_LINE) + CLEAR_LINE.length);

describe('formatAmount', () => {
  it('uses KiB below 1 MiB, for both numbers', () => {
    expect(formatAmount(0, 3.5 * KiB)).toBe('0.0/3.5 KiB');
    expect(formatAmount(512 * KiB, 800 * KiB)).toBe('512.0/800.0 KiB');
  });

  it('uses MiB from 1 MiB up, for both numbers', () => {
    expect(formatAmount(512 * KiB, 20.1 * MiB)).toBe('0.5/20.1 MiB');
    expect(formatAmount(12.3 * MiB, 20.1 * MiB)).toBe('12.3/20.1 MiB');
  });

  it('shows only what arrived when the size is unknown', () => {
    expect(formatAmount(700 * KiB, undefined)).toBe('700.0 KiB');
    expect(formatAmount(3 * MiB, undefined)).toBe('3.0 MiB');
  });
});

describe('formatProgress', () => {
  it('returns to the start of the line and clears it before drawing', () => {
    expect(formatProgress('livekit-server 1.9.0', 12.3 * MiB, 20.1 * MiB)).toBe(`\r\x1b[K    downloading livekit-server 1.9.0: 12.3/20.1 MiB`);
  });

  it('never reaches column 80, however long the label', () => {
    const line = visible(formatProgress(`livekit-server 1.9.0 from ${'x'.repeat(200)}`, 123.4 * MiB, 200 * MiB));
    expect(line.length).toBeLessThanOrEqual(79);
    expect(line).toMatch(/…: 123\.4\/200\.0 MiB$/);
  });

  it('fits a narrower width when given one', () => {
    expect(visible(formatProgress('livekit-server 1.9.0', MiB, 2 * MiB, 30)).length).toBeLessThanOrEqual(30);
  });
});

describe('progressPrinter', () => {
  function drive(events: Array<[number, number, number | undefined]>) {
    let out = '';
    let clock = 0;
    const draw = progressPrinter({ write: (s: string) => (out += s) }, { now: () => clock });
    for (const [t, received, total] of events) {
      clock = t;
      draw('livekit-server 1.9.0', received, total);
    }
    return out;
  }

  it('opens one line below the caller\'s, redraws it in place, and ends on the full amount', () => {
    const out = drive([[0, 0, 3 * MiB], [200, MiB, 3 * MiB], [400, 3 * MiB, 3 * MiB]]);
    expect(out.startsWith('\n')).toBe(true);
    expect(out.split('\n')).toHaveLength(2); // one newline: the rest is redrawn with \r
    expect(out.split(CLEAR_LINE)).toHaveLength(4);
    expect(visible(out)).toBe('    downloading livekit-server 1.9.0: 3.0/3.0 MiB');
  });

  it('redraws at most every 100 ms, but always draws the last chunk', () => {
    const out = drive([[0, 0, 100 * KiB], [10, 10 * KiB, 100 * KiB], [20, 20 * KiB, 100 * KiB], [30, 100 * KiB, 100 * KiB]]);
    expect(out.split(CLEAR_LINE)).toHaveLength(3);
    expect(visible(out)).toBe('    downloading livekit-server 1.9.0: 100.0/100.0 KiB');
  });

  it('leaves room on the finished line for " done (12.3 s)" within 79 columns', () => {
    let out = '';
    const draw = progressPrinter({ write: (s: string) => (out += s) });
    draw(`livekit-server 1.9.0 ${'y'.repeat(100)}`, 5 * MiB, 5 * MiB);
    expect(`${visible(out)} done (123.4 s)`.length).toBeLessThanOrEqual(79);
  });
});
