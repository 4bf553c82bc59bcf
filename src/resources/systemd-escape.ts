// Escaping for values that land in a systemd unit file (systemd.syntax(7), systemd.unit(5)).
// Paths are validated by the schema (absolute, no newline, no `%`, no control characters), so
// this is defence in depth: whatever reaches a unit cannot start a new line or a directive.

/** A single ExecStart= argument: double-quoted, with `\`, `"`, `$` and `%` escaped. */
export function execArg(value: string): string {
  assertSingleLine(value);
  const escaped = value
    .replaceAll('\\', '\\\\')
    .replaceAll('"', '\\"')
    .replaceAll('$', '$$$$') // `$$` in the output: `$` would start an environment variable
    .replaceAll('%', '%%'); // `%` starts a specifier
  return `"${escaped}"`;
}

/** A path after `append:`: taken verbatim to the end of the line, specifiers still expanded. */
export function pathValue(value: string): string {
  assertSingleLine(value);
  return value.replaceAll('%', '%%');
}

function assertSingleLine(value: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new Error(`refusing to put a control character into a unit file: ${JSON.stringify(value)}`);
  }
}

/** One Environment= assignment: `"NAME=value"`, with `\`, `"` and `%` escaped (no `$` expansion there). */
export function envAssignment(name: string, value: string): string {
  assertSingleLine(name);
  assertSingleLine(value);
  const escaped = `${name}=${value}`.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('%', '%%');
  return `"${escaped}"`;
}
