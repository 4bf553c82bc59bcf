// Writes an executable `livekit-server` that tests can install where vm expects the real one.
// The sh wrapper answers `--version` itself (vm runs it on every `vm plan`, and a Node start costs
// ~50 ms), and otherwise execs the Node stand-in with its knobs set in its own environment, so a
// unit file vm writes needs nothing special to run it.

import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export type StandinMode = 'normal' | 'crash' | 'never-ready';

export interface StandinOptions {
  /** Reported by `--version` and in the startup log line, e.g. "1.9.0". */
  version: string;
  /** Default 'normal'. */
  mode?: StandinMode;
  /** How long `GET /` answers 406 after the server listens. Default 600. */
  readyAfterMs?: number;
}

const SERVER_PATH = fileURLToPath(new URL('../fixtures/livekit-standin/server.mjs', import.meta.url));

/** Quotes a string for POSIX sh: the result is one word, taken literally. */
function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The text of an executable `livekit-server` (a #!/bin/sh wrapper). */
export function standinScript(opts: StandinOptions): string {
  const mode: StandinMode = opts.mode ?? 'normal';
  const readyAfterMs = opts.readyAfterMs ?? 600;
  if (!/^[0-9A-Za-z][0-9A-Za-z.+-]*$/.test(opts.version)) {
    throw new Error(`standin: version must look like X.Y.Z, got ${JSON.stringify(opts.version)}`);
  }
  if (!Number.isInteger(readyAfterMs) || readyAfterMs < 0) {
    throw new Error(`standin: readyAfterMs must be a non-negative integer, got ${readyAfterMs}`);
  }
  const versionLine = `livekit-server version ${opts.version}`;
  return [
    '#!/bin/sh',
    '# livekit-server stand-in for vm tests (written by test/helpers/standin.ts).',
    '# Answers --version without starting Node; anything else runs the Node stand-in.',
    'for arg in "$@"; do',
    '  case "$arg" in',
    // Tests that count how often vm runs the binary set LIVEKIT_STANDIN_VERSION_LOG.
    `    --version|-version|-v|--v) [ -n "$LIVEKIT_STANDIN_VERSION_LOG" ] && echo "$arg" >> "$LIVEKIT_STANDIN_VERSION_LOG"; printf '%s\\n' ${shQuote(versionLine)}; exit 0 ;;`,
    '  esac',
    'done',
    `LIVEKIT_STANDIN_VERSION=${shQuote(opts.version)}`,
    `LIVEKIT_STANDIN_MODE=${shQuote(mode)}`,
    `LIVEKIT_STANDIN_READY_AFTER_MS=${shQuote(String(readyAfterMs))}`,
    'export LIVEKIT_STANDIN_VERSION LIVEKIT_STANDIN_MODE LIVEKIT_STANDIN_READY_AFTER_MS',
    `exec ${shQuote(process.execPath)} ${shQuote(SERVER_PATH)} "$@"`,
    '',
  ].join('\n');
}

/** Writes it to `path` with mode 0755 (creating parent dirs). */
export async function writeStandin(path: string, opts: StandinOptions): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, standinScript(opts), { mode: 0o755 });
  await chmod(path, 0o755); // writeFile's mode is filtered by the umask and ignored for existing files
}
