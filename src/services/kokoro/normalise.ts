// kokoro's entry → its command line. Kokoro-FastAPI's start scripts hard-code --host 0.0.0.0
// --port 8880: vm runs the same uvicorn entry from the checkout itself, on the file's address,
// with the environment those scripts set.

import { join } from 'node:path';
import type { HttpNormalise } from '../command/normalise.js';

export const KOKORO: HttpNormalise = {
  // Voice Mode's port (FACTS.md); loading the model takes a while.
  defaults: { port: 8880, healthPath: '/health', timeoutMs: 120_000 },
  render(w, { host, port, dir }, t) {
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
    return { command: [uvicorn, 'api.src.main:app', '--host', host, '--port', String(port)], program: uvicorn, workingDir: checkout, env, model: undefined };
  },
};
