// Download progress for a person at a terminal: one line, redrawn in place. Each draw returns to
// the line's start and clears it (`\r` + `\x1b[K`), so a shorter line leaves no tail of the
// longer one, and the text never reaches the last column, so nothing wraps (a wrapped line
// cannot be redrawn with `\r`). Only ever drawn on a TTY: piped output gets none of it.

import type { Output } from './io.js';

/** Back to column 0, then erase to the end of the line. */
export const CLEAR_LINE = '\r\x1b[K';
/** 80 columns less one: writing the last column wraps on some terminals. */
export const DEFAULT_WIDTH = 79;
const KiB = 1024;
const MiB = 1024 * 1024;

/** `512.0/800.0 KiB`, `12.3/20.1 MiB`, or `3.4 MiB` when the size is unknown; one unit for both. */
export function formatAmount(received: number, total: number | undefined): string {
  const unit = (total ?? received) < MiB ? { n: KiB, name: 'KiB' } : { n: MiB, name: 'MiB' };
  const f = (b: number) => (b / unit.n).toFixed(1);
  return `${total === undefined ? f(received) : `${f(received)}/${f(total)}`} ${unit.name}`;
}

/** One progress line, clearing what was drawn before; its text fits `width` columns. */
export function formatProgress(label: string, received: number, total: number | undefined, width = DEFAULT_WIDTH): string {
  const amount = formatAmount(received, total);
  const room = width - '    downloading : '.length - amount.length;
  const shown = label.length <= room ? label : `${label.slice(0, Math.max(0, room - 1))}…`;
  return `${CLEAR_LINE}    downloading ${shown}: ${amount}`.slice(0, CLEAR_LINE.length + width);
}

export interface ProgressOptions {
  readonly width?: number;
  /** Redraw at most this often (the last chunk is always drawn). Default 100 ms. */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

/**
 * A progress callback that draws on the line below the one the caller left open (apply's
 * `  + binary install … ...`), and leaves the cursor after the final amount so the caller's
 * ` done (1.2 s)` ends that line. The final draw leaves room for that.
 */
export function progressPrinter(out: Output, o: ProgressOptions = {}): (label: string, received: number, total: number | undefined) => void {
  const width = Math.min(o.width ?? DEFAULT_WIDTH, DEFAULT_WIDTH);
  const interval = o.intervalMs ?? 100;
  const now = o.now ?? Date.now;
  let opened = false;
  let last = -Infinity;
  return (label, received, total) => {
    const finished = total !== undefined && received >= total;
    const t = now();
    if (!finished && t - last < interval) return;
    last = t;
    if (!opened) out.write('\n');
    opened = true;
    out.write(formatProgress(label, received, total, finished ? width - ' done (999.9 s)'.length : width));
  };
}
