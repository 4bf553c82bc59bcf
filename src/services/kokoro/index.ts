// Kokoro-FastAPI (text-to-speech, Voice Mode's port 8880): a preset of the supervised HTTP
// service, started from the user's checkout with its own venv's uvicorn, on the file's address.

import { httpKind } from '../command/index.js';

export const kokoroKind = httpKind('kokoro');
