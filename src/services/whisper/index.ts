// whisper.cpp's whisper-server (speech-to-text, Voice Mode's port 2022): a preset of the
// supervised HTTP service. Its command line is rendered from the file's fields
// (./normalise.ts); it answers GET /health with {"status":"ok"} once its model is
// loaded (before that nothing listens: it binds after loading).

import { httpKind } from '../command/index.js';
import { WHISPER } from './normalise.js';
import type { HttpObserved, HttpServiceDesired } from '../command/model.js';

export const whisperKind = httpKind('whisper', {
  normalise: WHISPER,
  role: 'stt',
  wellKnown: {
    port: 2022,
    path: '/health',
    role: 'stt',
    recognise: (r) => r.ok && (r.status === 200 || r.status === 503) && /"status"\s*:\s*"(ok|loading model)"/.test(r.body),
    clientUrl: (port) => `http://127.0.0.1:${port}/v1`,
  },
});

declare module '../../model.js' {
  interface ServiceKinds {
    whisper: { readonly desired: HttpServiceDesired; readonly observed: HttpObserved };
  }
}
