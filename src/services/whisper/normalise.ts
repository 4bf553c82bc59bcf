// whisper's entry → its command line: whisper.cpp's own flags (examples/server/server.cpp) and
// the OpenAI-style path Voice Mode uses. The model is a file the user has, or one vm downloads
// into the service's models directory and checks against its sha256.

import { basename, join } from 'node:path';
import type { HttpNormalise, NormaliseTools, WrittenHttp } from '../command/normalise.js';
import type { ModelSpec } from '../command/model.js';

/** whisper's own fields, beside those every supervised HTTP service has. */
interface WrittenWhisper extends WrittenHttp {
  readonly model?: { readonly path?: string; readonly url?: string; readonly sha256?: string };
  readonly language?: string;
  readonly threads?: number;
}

export const WHISPER: HttpNormalise = {
  // Voice Mode's port (FACTS.md); loading a model takes a while.
  defaults: { port: 2022, healthPath: '/health', timeoutMs: 120_000 },
  render(written, { host, port, dir }, t) {
    const w = written as WrittenWhisper;
    const program = t.expandHome(w.install?.path ?? join(dir, 'build', 'bin', 'whisper-server'));
    const model = whisperModel(w.model, dir, t);
    const command = [
      program,
      '--host', host,
      '--port', String(port),
      '--model', model.path,
      '--threads', String(w.threads ?? 4),
      '--language', w.language ?? 'auto',
      '--inference-path', '/v1/audio/transcriptions',
    ];
    return { command, program, workingDir: undefined, env: { ...w.env }, model };
  },
};

function whisperModel(m: WrittenWhisper['model'], dir: string, t: NormaliseTools): ModelSpec {
  const models = join(dir, 'models');
  if (m?.url !== undefined && m.sha256 !== undefined) {
    const file = basename(new URL(m.url).pathname) || 'model.bin';
    return { kind: 'download', url: m.url, sha256: m.sha256.toLowerCase(), path: join(models, file) };
  }
  return { kind: 'path', path: t.expandHome(m?.path ?? join(models, 'ggml-base.en.bin')) };
}
