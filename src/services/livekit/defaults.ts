// LiveKit's defaults: what its entry means when the file leaves a field out, and the LiveKit vm
// manages when no file is found (src/spec/default.ts). vm init's file is built from the same
// constants, and a test proves it parses to exactly this default.

import type { LiveKitDesired } from './model.js';

/** The LiveKit version vm installs when the user has not chosen one. */
export const DEFAULT_LIVEKIT_VERSION = '1.9.0';
export const DEFAULT_BASE_URL = 'https://github.com/livekit/livekit/releases';
/** LiveKit's official install script (install.method: script). */
export const DEFAULT_SCRIPT_URL = 'https://get.livekit.io';
/** The API key name vm generates (with a random secret) when the file declares no keys. */
export const GENERATED_API_KEY = 'devkey';

/** LiveKit's defaults in one place; its normalise.ts fills omitted values from here. */
export const LIVEKIT_DEFAULTS = {
  state: 'running',
  autostart: true,
  baseUrl: DEFAULT_BASE_URL,
  port: 7880,
  // Loopback only: LiveKit listens on every interface when bind_addresses is empty.
  bindAddresses: ['127.0.0.1'],
  rtc: { portRangeStart: 50000, portRangeEnd: 60000, tcpPort: 7881, useExternalIp: false },
  room: { autoCreate: true, emptyTimeout: 300 },
  logLevel: 'info',
  logMaxBytes: 10 * 1024 * 1024,
  healthTimeoutMs: 30_000,
} as const;

export function defaultLiveKit(): LiveKitDesired {
  return {
    name: 'livekit',
    kind: 'livekit',
    state: LIVEKIT_DEFAULTS.state,
    autostart: LIVEKIT_DEFAULTS.autostart,
    removeData: false,
    dev: false,
    version: DEFAULT_LIVEKIT_VERSION,
    install: { method: 'release', baseUrl: LIVEKIT_DEFAULTS.baseUrl },
    port: LIVEKIT_DEFAULTS.port,
    bindAddresses: [...LIVEKIT_DEFAULTS.bindAddresses],
    rtc: { ...LIVEKIT_DEFAULTS.rtc },
    keys: { kind: 'generated', apiKey: GENERATED_API_KEY },
    room: { ...LIVEKIT_DEFAULTS.room },
    logging: { level: LIVEKIT_DEFAULTS.logLevel, maxBytes: LIVEKIT_DEFAULTS.logMaxBytes },
    health: { timeoutMs: LIVEKIT_DEFAULTS.healthTimeoutMs },
  };
}

/** Homebrew's formula for livekit-server (install.method: brew). */
export const BREW_FORMULA = 'livekit';
