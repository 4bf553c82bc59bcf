// whisper.cpp's whisper-server (speech-to-text, Voice Mode's port 2022): a preset of the
// supervised HTTP service. Its command line is rendered from the file by ../../spec (normalise).

import { httpKind } from '../command/index.js';

export const whisperKind = httpKind('whisper');
