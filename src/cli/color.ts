// Plain ANSI colour for what a person reads at a terminal. Off when piped, with NO_COLOR set
// (https://no-color.org), or when TERM=dumb; FORCE_COLOR turns it on anyway (as in Node itself,
// where it wins over NO_COLOR).

export type Paint = (s: string) => string;

export interface Palette {
  readonly green: Paint;
  readonly yellow: Paint;
  readonly red: Paint;
  readonly cyan: Paint;
  readonly dim: Paint;
  readonly bold: Paint;
}

const sgr = (open: number, close: number): Paint => (s) => (s === '' ? s : `\x1b[${open}m${s}\x1b[${close}m`);
const plainPaint: Paint = (s) => s;

export const PLAIN: Palette = { green: plainPaint, yellow: plainPaint, red: plainPaint, cyan: plainPaint, dim: plainPaint, bold: plainPaint };
export const ANSI: Palette = { green: sgr(32, 39), yellow: sgr(33, 39), red: sgr(31, 39), cyan: sgr(36, 39), dim: sgr(2, 22), bold: sgr(1, 22) };

export function palette(color: boolean | undefined): Palette {
  return color === true ? ANSI : PLAIN;
}

/** Whether stdout should be coloured, from whether it is a terminal and the environment. */
export function colorWanted(stdoutIsTTY: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  const force = env['FORCE_COLOR'];
  if (force !== undefined) return force !== '0' && force !== 'false';
  if ((env['NO_COLOR'] ?? '') !== '') return false;
  return stdoutIsTTY && env['TERM'] !== 'dumb';
}
