// Writes an executable `whisper-server` that tests can install where vm expects the real one, and
// makes model files it accepts. The sh wrapper execs the Node stand-in
// (test/fixtures/whisper-standin/server.mjs) with its knobs in its own environment, so a unit file
// vm writes needs nothing special to run it. whisper-server has no --version: the version only
// changes the file's bytes (a comment), as a real upgrade changes the binary.

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export type WhisperStandinMode = 'normal' | 'crash' | 'never-ready';

export interface WhisperStandinOptions {
  /** Written into the script, e.g. "1.9.3". Default "1.9.3". */
  version?: string;
  /** Default 'normal'. 'crash': aborts (SIGABRT) while loading the model. 'never-ready': the load never ends. */
  mode?: WhisperStandinMode;
  /** How long loading the model takes. Default 300. */
  loadDelayMs?: number;
  /**
   * Bind before loading and answer 503 {"status":"loading model"} meanwhile. The real start-up
   * binds only after the load (nothing listens); this is what its /load window looks like.
   */
  listenWhileLoading?: boolean;
  /** What every inference returns as text (a segment, so usually with a leading space). */
  transcript?: string;
}

const SERVER_PATH = fileURLToPath(new URL('../fixtures/whisper-standin/server.mjs', import.meta.url));

/** The 4 bytes every ggml model starts with (0x67676d6c little-endian); whisper-server checks them. */
export const GGML_MAGIC = Buffer.from('lmgg', 'latin1');

/** A file whisper-server (the stand-in) loads: the ggml magic, then `size - 4` random bytes. */
export function makeWhisperModel(size = 2 * 1024 * 1024): Buffer {
  if (!Number.isInteger(size) || size < 4) throw new Error(`makeWhisperModel: size must be an integer >= 4, got ${size}`);
  return Buffer.concat([GGML_MAGIC, randomBytes(size - 4)]);
}

function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The text of an executable `whisper-server` (a #!/bin/sh wrapper). */
export function whisperStandinScript(opts: WhisperStandinOptions = {}): string {
  const version = opts.version ?? '1.9.3';
  const loadDelayMs = opts.loadDelayMs ?? 300;
  if (!/^[0-9A-Za-z][0-9A-Za-z.+-]*$/.test(version)) throw new Error(`whisper stand-in: bad version ${JSON.stringify(version)}`);
  if (!Number.isInteger(loadDelayMs) || loadDelayMs < 0) throw new Error(`whisper stand-in: loadDelayMs must be a non-negative integer, got ${loadDelayMs}`);
  const env: [string, string][] = [
    ['WHISPER_STANDIN_VERSION', version],
    ['WHISPER_STANDIN_MODE', opts.mode ?? 'normal'],
    ['WHISPER_STANDIN_LOAD_MS', String(loadDelayMs)],
    ['WHISPER_STANDIN_LISTEN_EARLY', opts.listenWhileLoading === true ? '1' : '0'],
  ];
  if (opts.transcript !== undefined) env.push(['WHISPER_STANDIN_TRANSCRIPT', opts.transcript]);
  return [
    '#!/bin/sh',
    `# whisper-server ${version} stand-in for vm tests (written by test/helpers/whisper-standin.ts).`,
    'ulimit -c 0 2>/dev/null # the stand-in aborts like the real one on some errors: no core files',
    ...env.map(([k, v]) => `${k}=${shQuote(v)}`),
    'WHISPER_STANDIN_ARGV0="$0"',
    `export ${[...env.map(([k]) => k), 'WHISPER_STANDIN_ARGV0'].join(' ')}`,
    `exec ${shQuote(process.execPath)} ${shQuote(SERVER_PATH)} "$@"`,
    '',
  ].join('\n');
}

/** Writes it to `path` with mode 0755 (creating parent dirs). */
export async function writeWhisperStandin(path: string, opts: WhisperStandinOptions = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, whisperStandinScript(opts), { mode: 0o755 });
  await chmod(path, 0o755); // writeFile's mode is filtered by the umask and ignored for existing files
}
