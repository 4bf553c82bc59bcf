// One-line reasons for a changed YAML file: "rtc.port_range_end 60000 → 60100". Pure.

import { parse } from 'yaml';

const MAX_LISTED = 3;

export function describeYamlChange(before: string, after: string): string {
  let a: unknown;
  try {
    a = parse(before);
  } catch {
    return 'edited by hand (no longer valid YAML)';
  }
  const changes = diffValues(flatten(a), flatten(parse(after)));
  if (changes.length === 0) return 'edited by hand (comments or formatting)';
  const shown = changes.slice(0, MAX_LISTED).join(', ');
  return changes.length > MAX_LISTED ? `${shown} (+${changes.length - MAX_LISTED} more)` : shown;
}

function diffValues(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of after) {
    const old = before.get(k);
    if (old === undefined) out.push(`${k} added (${v})`);
    else if (old !== v) out.push(`${k} ${old} → ${v}`);
  }
  for (const k of before.keys()) if (!after.has(k)) out.push(`${k} removed`);
  return out;
}

/** Leaf values keyed by dotted path; arrays are compared whole ("[127.0.0.1, ::1]"). */
export function flatten(v: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    for (const [k, child] of Object.entries(v)) flatten(child, prefix === '' ? k : `${prefix}.${k}`, out);
  } else if (prefix !== '') {
    out.set(prefix, Array.isArray(v) ? `[${v.map(String).join(', ')}]` : String(v));
  }
  return out;
}
