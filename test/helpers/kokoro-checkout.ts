// Writes a fake Kokoro-FastAPI checkout for tests, laid out as the real one is after its start
// script has installed it: `api/src/main.py` (a placeholder), voices in `api/src/voices/v1_0/`,
// the model in `api/src/models/v1_0/`, and a venv whose `.venv/bin/uvicorn` is the stand-in
// (test/fixtures/kokoro-standin/uvicorn.mjs) with its knobs in its own environment.
//
// `start-cpu.sh` / `start-gpu.sh` hard-code `--host 0.0.0.0 --port 8880` as upstream's do; vm must
// not use them. Run anyway, they leave `.start-script-ran` in the checkout (tests can assert its
// absence) and the stand-in refuses the 0.0.0.0 bind.

import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type KokoroStandinMode = 'normal' | 'crash' | 'never-ready';

export interface KokoroCheckoutOptions {
  /** The checkout's VERSION file (shown in /openapi.json). Default "0.8.1". */
  version?: string;
  /** How long the model warm-up takes before uvicorn binds. Default 500. */
  warmupMs?: number;
  /** Default 'normal'. 'crash': the warm-up fails (exit 3). 'never-ready': it never ends. */
  mode?: KokoroStandinMode;
  /** Voice packs (file names without .pt). Default af_heart, af_bella, am_adam, bf_emma, bm_george. */
  voices?: string[];
  /** The model file's bytes, or false for a checkout whose model is not downloaded yet. Default 64 KiB. */
  model?: Buffer | false;
}

export interface KokoroCheckout {
  root: string;
  /** `<root>/.venv/bin/uvicorn`: what vm runs, from `root`, with `app` and its own --host/--port. */
  uvicorn: string;
  /** `<root>/.venv/bin/python`: understands `-m uvicorn …` only. */
  python: string;
  /** The import string, `api.src.main:app`. */
  app: string;
  startCpu: string;
  /** `<root>/api/src/models/v1_0/kokoro-v1_0.pth` (present unless `model: false`). */
  modelPath: string;
  voicesDir: string;
  /** Marker a start script writes when it runs. */
  startScriptMarker: string;
  /** The environment Kokoro needs (as start-cpu.sh sets it); without MODEL_DIR it looks in /app. */
  env: Record<string, string>;
}

export const KOKORO_MODEL_FILE = 'kokoro-v1_0.pth';
const UVICORN_PATH = fileURLToPath(new URL('../fixtures/kokoro-standin/uvicorn.mjs', import.meta.url));
const DEFAULT_VOICES = ['af_heart', 'af_bella', 'am_adam', 'bf_emma', 'bm_george'];

function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

async function put(path: string, content: string | Buffer, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content, { mode });
  await chmod(path, mode);
}

function startScript(gpu: boolean): string {
  // Written for the tests, after upstream's: env, then uvicorn on every interface, port 8880.
  return [
    '#!/bin/bash',
    '# Kokoro-FastAPI start script (test copy): binds 0.0.0.0:8880, which vm must not do.',
    'PROJECT_ROOT=$(pwd)',
    'touch "$PROJECT_ROOT/.start-script-ran"',
    `export USE_GPU=${gpu ? 'true' : 'false'}`,
    'export PYTHONPATH=$PROJECT_ROOT:$PROJECT_ROOT/api',
    'export MODEL_DIR=src/models',
    'export VOICES_DIR=src/voices/v1_0',
    'export WEB_PLAYER_PATH=$PROJECT_ROOT/web',
    '# upstream: uv pip install -e ".[cpu]"; download_model.py; uv run --no-sync uvicorn ...',
    'exec "$PROJECT_ROOT/.venv/bin/uvicorn" api.src.main:app --host 0.0.0.0 --port 8880',
    '',
  ].join('\n');
}

const MAIN_PY = `"""
Kokoro-FastAPI entry point (placeholder written by test/helpers/kokoro-checkout.ts).
The uvicorn stand-in in .venv/bin only checks that this module exists and defines \`app\`.
"""

from fastapi import FastAPI

app = FastAPI(title="Kokoro TTS API")
`;

/** Writes the checkout at `root` (created if missing). */
export async function writeKokoroCheckout(root: string, opts: KokoroCheckoutOptions = {}): Promise<KokoroCheckout> {
  const version = opts.version ?? '0.8.1';
  const warmupMs = opts.warmupMs ?? 500;
  if (!Number.isInteger(warmupMs) || warmupMs < 0) throw new Error(`kokoro checkout: warmupMs must be a non-negative integer, got ${warmupMs}`);
  const voices = opts.voices ?? DEFAULT_VOICES;
  const model = opts.model ?? Buffer.alloc(64 * 1024, 0x4b);

  await put(join(root, 'VERSION'), `${version}\n`);
  await put(join(root, 'pyproject.toml'), `[project]\nname = "kokoro-fastapi"\nversion = "${version}"\nrequires-python = ">=3.10"\ndependencies = ["fastapi", "uvicorn==0.34.0"]\n`);
  await put(join(root, 'start-cpu.sh'), startScript(false), 0o755);
  await put(join(root, 'start-gpu.sh'), startScript(true), 0o755);
  await put(join(root, 'api', '__init__.py'), '');
  await put(join(root, 'api', 'src', '__init__.py'), '');
  await put(join(root, 'api', 'src', 'main.py'), MAIN_PY);
  const voicesDir = join(root, 'api', 'src', 'voices', 'v1_0');
  await mkdir(voicesDir, { recursive: true });
  for (const v of voices) await put(join(voicesDir, `${v}.pt`), Buffer.from(`voice pack ${v} (test)\n`));
  const modelPath = join(root, 'api', 'src', 'models', 'v1_0', KOKORO_MODEL_FILE);
  await mkdir(dirname(modelPath), { recursive: true });
  if (model !== false) {
    await put(modelPath, model);
    await put(join(dirname(modelPath), 'config.json'), '{"istftnet": {}, "n_token": 178}\n');
  }

  const bin = join(root, '.venv', 'bin');
  const env: [string, string][] = [
    ['KOKORO_STANDIN_CHECKOUT', root],
    ['KOKORO_STANDIN_WARMUP_MS', String(warmupMs)],
    ['KOKORO_STANDIN_MODE', opts.mode ?? 'normal'],
  ];
  await put(join(root, '.venv', 'pyvenv.cfg'), 'home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.10.12\n');
  await put(
    join(bin, 'uvicorn'),
    [
      '#!/bin/sh',
      `# uvicorn 0.34.0 stand-in serving Kokoro-FastAPI ${version} (written by test/helpers/kokoro-checkout.ts).`,
      ...env.map(([k, v]) => `${k}=${shQuote(v)}`),
      `export ${env.map(([k]) => k).join(' ')}`,
      `exec ${shQuote(process.execPath)} ${shQuote(UVICORN_PATH)} "$@"`,
      '',
    ].join('\n'),
    0o755,
  );
  await put(
    join(bin, 'python'),
    [
      '#!/bin/sh',
      '# python stand-in: only `--version` and `-m uvicorn ...`.',
      'case "$1" in',
      '  --version|-V) echo "Python 3.10.12"; exit 0 ;;',
      `  -m) if [ "$2" = uvicorn ]; then shift 2; exec ${shQuote(join(bin, 'uvicorn'))} "$@"; fi ;;`,
      'esac',
      'echo "python stand-in: only -m uvicorn is supported (got: $*)" >&2',
      'exit 2',
      '',
    ].join('\n'),
    0o755,
  );

  return {
    root,
    uvicorn: join(bin, 'uvicorn'),
    python: join(bin, 'python'),
    app: 'api.src.main:app',
    startCpu: join(root, 'start-cpu.sh'),
    modelPath,
    voicesDir,
    startScriptMarker: join(root, '.start-script-ran'),
    env: { USE_GPU: 'false', PYTHONPATH: `${root}:${join(root, 'api')}`, MODEL_DIR: 'src/models', VOICES_DIR: 'src/voices/v1_0' },
  };
}
