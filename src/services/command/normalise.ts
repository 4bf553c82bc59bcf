// The file's supervised-HTTP services → desired state: `command` as written; `whisper` and
// `kokoro` render their command line from their own fields (presets). Pure; `~` expanded.

import { basename, join } from 'node:path';
import type { HttpServiceDesired, KindName, ModelSpec, ServiceName, ServiceState } from '../../model.js';

type Env = Readonly<Record<string, string | undefined>>;

/** What the user wrote for one of these services (validated by the schema). */
export interface WrittenHttp {
  readonly kind?: KindName;
  readonly state?: ServiceState;
  readonly autostart?: boolean;
  readonly remove_data?: boolean;
  readonly port?: number;
  readonly bind_addresses?: readonly string[];
  readonly health?: { readonly path?: string; readonly timeout?: number | string };
  readonly logging?: { readonly max_size?: number | string };
  readonly env?: Readonly<Record<string, string>>;
  readonly install?: { readonly method?: 'path'; readonly path?: string };
  readonly allow_insecure?: boolean;
  // whisper
  readonly model?: { readonly path?: string; readonly url?: string; readonly sha256?: string };
  readonly language?: string;
  readonly threads?: number;
  // command
  readonly command?: readonly string[];
  readonly working_dir?: string;
}

export interface NormaliseTools {
  readonly expandHome: (path: string) => string;
  readonly parseDuration: (v: unknown) => number | undefined;
  readonly parseSize: (v: unknown) => number | undefined;
  /** $VOICEMODE_HOME (expanded), where vm's own service directories are. */
  readonly voicemodeHome: string;
}

const LOG_MAX_BYTES = 10 * 1024 * 1024;

/** Each preset's defaults: Voice Mode's ports (FACTS.md) and model-loading health timeouts. */
const PRESETS = {
  whisper: { port: 2022, healthPath: '/health', timeoutMs: 120_000 },
  kokoro: { port: 8880, healthPath: '/health', timeoutMs: 120_000 },
  command: { port: 0, healthPath: '/health', timeoutMs: 60_000 },
} as const;

export function normaliseHttp(name: ServiceName, kind: 'whisper' | 'kokoro' | 'command', w: WrittenHttp, t: NormaliseTools, env: Env): HttpServiceDesired {
  void env;
  const preset = PRESETS[kind];
  const state = w.state ?? 'running';
  const port = w.port ?? preset.port;
  const bindAddresses = [...(w.bind_addresses ?? ['127.0.0.1'])];
  const host = bindAddresses[0] ?? '127.0.0.1';
  const dir = join(t.voicemodeHome, 'services', name);
  const base = {
    name,
    state,
    autostart: w.autostart ?? state === 'running',
    removeData: w.remove_data ?? false,
    port,
    bindAddresses,
    logging: { maxBytes: t.parseSize(w.logging?.max_size) ?? LOG_MAX_BYTES },
    health: { path: w.health?.path ?? preset.healthPath, timeoutMs: t.parseDuration(w.health?.timeout) ?? preset.timeoutMs },
  };
  switch (kind) {
    case 'whisper': {
      const program = t.expandHome(w.install?.path ?? join(dir, 'build', 'bin', 'whisper-server'));
      const model = whisperModel(w.model, dir, t);
      // whisper.cpp's own flags (examples/server/server.cpp); the OpenAI-style path Voice Mode uses.
      const command = [
        program,
        '--host', host,
        '--port', String(port),
        '--model', model.path,
        '--threads', String(w.threads ?? 4),
        '--language', w.language ?? 'auto',
        '--inference-path', '/v1/audio/transcriptions',
      ];
      return { ...base, kind, command, program, workingDir: undefined, env: { ...w.env }, model };
    }
    case 'kokoro': {
      // Kokoro-FastAPI's start scripts hard-code --host 0.0.0.0 --port 8880: vm runs the same
      // uvicorn entry from the checkout itself, with the environment those scripts set.
      const checkout = t.expandHome(w.install?.path ?? dir);
      const uvicorn = join(checkout, '.venv', 'bin', 'uvicorn');
      const env = {
        USE_GPU: 'false',
        PYTHONPATH: `${checkout}:${join(checkout, 'api')}`,
        MODEL_DIR: 'src/models',
        VOICES_DIR: 'src/voices/v1_0',
        WEB_PLAYER_PATH: join(checkout, 'web'),
        ...w.env,
      };
      return { ...base, kind, command: [uvicorn, 'api.src.main:app', '--host', host, '--port', String(port)], program: uvicorn, workingDir: checkout, env, model: undefined };
    }
    case 'command': {
      const command = (w.command ?? []).map((a) => (a.startsWith('~/') ? t.expandHome(a) : a));
      return { ...base, kind, command, program: command[0] ?? '', workingDir: w.working_dir === undefined ? undefined : t.expandHome(w.working_dir), env: { ...w.env }, model: undefined };
    }
  }
}

function whisperModel(m: WrittenHttp['model'], dir: string, t: NormaliseTools): ModelSpec {
  const models = join(dir, 'models');
  if (m?.url !== undefined && m.sha256 !== undefined) {
    const file = basename(new URL(m.url).pathname) || 'model.bin';
    return { kind: 'download', url: m.url, sha256: m.sha256.toLowerCase(), path: join(models, file) };
  }
  return { kind: 'path', path: t.expandHome(m?.path ?? join(models, 'ggml-base.en.bin')) };
}
