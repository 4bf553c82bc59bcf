// Kokoro-FastAPI (text-to-speech, Voice Mode's port 8880): a preset of the supervised HTTP
// service, started from the user's checkout with its own venv's uvicorn, on the file's address
// (its start scripts bind 0.0.0.0). GET /health answers {"status":"healthy"}.

import { httpKind } from '../command/index.js';
import { KOKORO } from './normalise.js';
import type { HttpObserved, HttpServiceDesired } from '../command/model.js';

export const kokoroKind = httpKind('kokoro', {
  normalise: KOKORO,
  // uvicorn inside the checkout's .venv
  watchProgram: false,
  role: 'tts',
  wellKnown: {
    port: 8880,
    path: '/health',
    role: 'tts',
    recognise: (r) => r.ok && r.status === 200 && /"status"\s*:\s*"healthy"/.test(r.body),
    clientUrl: (port) => `http://127.0.0.1:${port}/v1`,
  },
});

declare module '../../model.js' {
  interface ServiceKinds {
    kokoro: { readonly desired: HttpServiceDesired; readonly observed: HttpObserved };
  }
}
