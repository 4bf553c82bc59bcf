// A marked block in a line-based file the user also edits (a dotenv file such as Voice Mode's
// voicemode.env): the lines from `# >>> vm: NAME >>>` to `# <<< vm: NAME <<<`. vm changes only
// those lines; every byte outside them stays as it was, in its order. Pure.

export const beginMarker = (name: string): string => `# >>> vm: ${name} >>>`;
export const endMarker = (name: string): string => `# <<< vm: ${name} <<<`;

export type BlockSearch =
  | { readonly kind: 'none' }
  /** `text` is the block itself, markers included; [start, end) its byte span, its last newline included. */
  | { readonly kind: 'found'; readonly start: number; readonly end: number; readonly text: string }
  /** A begin marker with no end marker after it: vm cannot tell where its lines stop. */
  | { readonly kind: 'unterminated'; readonly line: number };

export function findBlock(text: string, name: string): BlockSearch {
  const begin = beginMarker(name);
  const end = endMarker(name);
  let offset = 0;
  let start: number | undefined;
  let startLine = 0;
  let lineNo = 0;
  while (offset < text.length) {
    const nl = text.indexOf('\n', offset);
    const next = nl === -1 ? text.length : nl + 1;
    const line = text.slice(offset, nl === -1 ? text.length : nl).trim();
    lineNo++;
    if (start === undefined && line === begin) {
      start = offset;
      startLine = lineNo;
    } else if (start !== undefined && line === end) {
      return { kind: 'found', start, end: next, text: text.slice(start, next) };
    }
    offset = next;
  }
  return start === undefined ? { kind: 'none' } : { kind: 'unterminated', line: startLine };
}

/**
 * `text` with the block NAME set to `block` (markers included, ending in a newline), or removed
 * when `block` is undefined. A new block goes at the end of the file. Throws on an unterminated
 * block (the planner reports it first as a blocker).
 */
export function setBlock(text: string | undefined, name: string, block: string | undefined): string {
  const cur = text ?? '';
  const found = findBlock(cur, name);
  switch (found.kind) {
    case 'unterminated':
      throw new Error(`line ${found.line}: "${beginMarker(name)}" has no "${endMarker(name)}" after it`);
    case 'found':
      return cur.slice(0, found.start) + (block ?? '') + cur.slice(found.end);
    case 'none':
      if (block === undefined) return cur;
      // The last line gets the newline it lacked, so the block starts on a line of its own.
      return cur === '' ? block : `${cur}${cur.endsWith('\n') ? '' : '\n'}${block}`;
  }
}

export interface EnvVar {
  readonly key: string;
  readonly value: string;
  /** Shown as `(sensitive)` in every plan and diff. */
  readonly sensitive: boolean;
}

/** The block's text: markers, a line saying vm manages it, and one KEY=VALUE line per variable. */
export function renderBlock(name: string, vars: readonly EnvVar[], shown = false): string {
  const lines = [
    beginMarker(name),
    '# Managed by vm (Voice Mode): `vm apply` rewrites the lines between these markers; change voicemode.services.yaml instead.',
    ...vars.map((v) => `${v.key}=${shown && v.sensitive ? '(sensitive)' : dotenvValue(v.value)}`),
    endMarker(name),
  ];
  return `${lines.join('\n')}\n`;
}

// Voice Mode's reader takes `KEY=VALUE` lines, strips one layer of quotes and knows no `export`
// and no escapes (FACTS.md). Plain values stay bare; anything else gets single quotes (double
// quotes when the value holds a single quote). A newline cannot be written at all.
const BARE = /^[A-Za-z0-9_./:@+,=%~-]*$/;

export function dotenvValue(v: string): string {
  if (/[\r\n]/.test(v)) throw new Error('a value with a line break cannot be written to a dotenv file');
  if (BARE.test(v)) return v;
  return v.includes("'") && !v.includes('"') ? `"${v}"` : `'${v}'`;
}

/**
 * A block as the user may be shown it: every value redacted except those of `plain` keys, and any
 * other line that is not a comment replaced too (a secret pasted inside the block stays unseen).
 */
export function redactBlock(block: string, plain: ReadonlySet<string>): string {
  return block
    .split('\n')
    .map((line) => {
      const t = line.trim();
      if (t === '' || t.startsWith('#')) return line;
      const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
      if (m?.[1] !== undefined) return plain.has(m[1]) ? line : `${m[1]}=(sensitive)`;
      return '(sensitive)';
    })
    .join('\n');
}
