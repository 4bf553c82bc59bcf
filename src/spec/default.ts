// The built-in desired state (used when no file is found) and the commented file `vm init`
// writes. Both are built from the same constants, and a test proves the file parses to exactly
// this default, so they cannot drift apart.

import type { DesiredState } from '../model.js';
import { DEFAULT_LIVEKIT_VERSION, GENERATED_API_KEY, LIVEKIT_DEFAULTS, defaultLiveKit } from '../services/livekit/defaults.js';

/**
 * The schema's $id: a name, not a place (the schema is not published on the web yet). Editors
 * get the schema from the `$schema=` path that `vm init` writes: the copy installed with vm.
 */
export const SCHEMA_ID = 'urn:voicemode:vm:schema:services:1';
/** Every default `vm init`'s file shows: the file's own, then LiveKit's. */
export const DEFAULTS = { supervisor: 'auto', ...LIVEKIT_DEFAULTS } as const;

/** What vm manages when no voicemode.services.yaml is found: LiveKit on loopback. */
export function defaultDesired(): DesiredState {
  return { source: { kind: 'default' }, supervisor: DEFAULTS.supervisor, services: { livekit: defaultLiveKit() } };
}

/** The file `vm init` writes: the built-in default, every option shown and explained. */
export function initFileText(schemaPath: string): string {
  const d = DEFAULTS;
  // [code, comment]: comments line up in one column.
  const rows: ReadonlyArray<readonly [string, string?]> = [
    [`# yaml-language-server: $schema=${schemaPath}`],
    ['# The services vm keeps on this machine. `vm plan` shows what would change, `vm apply` does it.'],
    ['# Every value below is the default; commented lines show options you may add.'],
    ['version: 1', 'format of this file (not the LiveKit version)'],
    [`supervisor: ${d.supervisor}`, 'auto | systemd | launchd | process (auto: systemd, else launchd'],
    ['', 'on macOS, else vm runs LiveKit as a plain process)'],
    [''],
    ['services:'],
    ['  livekit:'],
    [`    state: ${d.state}`, 'running | stopped | absent (absent removes what vm installed;'],
    ['', 'logs stay unless remove_data: true)'],
    // Commented: written out, `autostart: true` would keep a `state: stopped` LiveKit starting at
    // login, against the default that follows the state.
    [`    # autostart: ${String(d.autostart)}`, 'start LiveKit when you log in. Default: true'],
    ['', 'when running, false when stopped'],
    ['    # remove_data: false', 'with state: absent, true also deletes the logs'],
    [`    version: ${DEFAULT_LIVEKIT_VERSION}`, 'exact livekit-server version X.Y.Z, or latest'],
    ['    install:'],
    ['      method: auto', 'auto: Homebrew on macOS, release elsewhere. release: GitHub'],
    ['', 'download, checksum verified. brew. script: official script (no'],
    ['', 'checksum). path: your own binary, never touched'],
    [`      base_url: ${d.baseUrl}`, 'where releases come from (https)'],
    ['      # archive: ~/Downloads/livekit_1.9.0_linux_amd64.tar.gz', 'offline: a local release with checksums.txt beside it'],
    ['      # path: ~/bin/livekit-server', 'with method: path, the binary to run (then drop base_url)'],
    ['      # script_url: https://get.livekit.io', 'with method: script, where the script comes from'],
    [`    port: ${d.port}`, 'HTTP and WebSocket port (TCP)'],
    [`    bind_addresses: [${d.bindAddresses.join(', ')}]`, 'loopback only. A LAN/Tailscale address or 0.0.0.0 lets other'],
    ['', 'machines in: then every secret needs 32+ characters'],
    ['    rtc:'],
    [`      port_range_start: ${d.rtc.portRangeStart}`, 'first UDP port for media'],
    [`      port_range_end: ${d.rtc.portRangeEnd}`, 'last UDP port for media'],
    [`      tcp_port: ${d.rtc.tcpPort}`, 'TCP media fallback when UDP is blocked'],
    [`      use_external_ip: ${String(d.rtc.useExternalIp)}`, 'true: discover and advertise the public IP (STUN)'],
    ['    # keys:', `api key: secret. Left out, vm generates "${GENERATED_API_KEY}" with a random secret.`],
    ['', 'A secret is { file: PATH } (a file only you can read: chmod 600),'],
    ['', '{ env: NAME } (read each time vm runs) or text (32+ characters)'],
    ['    #   mykey: { file: ~/.config/voicemode/livekit.secret }'],
    ['    room:'],
    [`      auto_create: ${String(d.room.autoCreate)}`, 'create a room when the first participant joins'],
    [`      empty_timeout: ${d.room.emptyTimeout}`, 'seconds an empty room is kept'],
    ['    logging:'],
    [`      level: ${d.logLevel}`, 'debug | info | warn | error'],
    ['      max_size: 10MiB', 'rotate the log past this size (keeps 3, LiveKit keeps running)'],
    ['    health:'],
    [`      timeout: ${d.healthTimeoutMs / 1000}s`, 'how long apply waits for LiveKit to answer OK: 500ms, 30s, 2m'],
    ['    # dev: false', "LiveKit's dev mode (serves /debug/pprof); refused off loopback"],
    ['    # allow_insecure: false', 'true: allow a weak secret or dev off loopback (plans warn)'],
    ['    # fallback:', 'a remote LiveKit (LiveKit Cloud) for vm env/exec/token'],
    ['', 'when this one is not healthy; vm never manages it'],
    ['    #   url: wss://my-project.livekit.cloud'],
    ['    #   api_key: APIabc123'],
    ['    #   api_secret: { env: LIVEKIT_CLOUD_SECRET }', 'read only when it is used'],
    ['    # expose:', 'reach LiveKit from your other devices over Tailscale'],
    ['    #   tailscale: false', 'true: also listen on the tailnet address (node_ip)'],
    ['    #   https: false', 'true: wss:// through tailscale serve (browsers)'],
    ['    #   https_port: 7443', 'the tailnet port of that endpoint'],
    ['    # redis:', "LiveKit's multi-node mode: the Redis all nodes share"],
    ['    #   address: 127.0.0.1:6379', 'beyond loopback it needs a password'],
    ['    #   password: { env: REDIS_PASSWORD }', 'only in the 0600 config; username, db, tls too'],
    ['    # region: home', "this node's region (LiveKit's region)"],
    ['  # whisper:', "whisper.cpp's whisper-server, speech-to-text (port 2022)"],
    ['  #   install: { method: path, path: ~/.voicemode/services/whisper/build/bin/whisper-server }'],
    ['  #   model: { path: ~/.voicemode/services/whisper/models/ggml-base.en.bin }', 'or { url, sha256 }'],
    ['  # kokoro:', 'Kokoro-FastAPI, text-to-speech (port 8880)'],
    ['  #   install: { method: path, path: ~/.voicemode/services/kokoro }', 'its checkout, with .venv'],
    ['  # my-llm:', 'any other local HTTP service'],
    ['  #   kind: command'],
    ['  #   command: [~/bin/llama-server, --port, "8080"]'],
    ['  #   port: 8080'],
    [''],
    ['# clients:', 'client files vm keeps in step with LiveKit (only its own part)'],
    ['#   env_file: ~/.voicemode/voicemode.env', "Voice Mode's env file: a marked block of LIVEKIT_* values"],
    ['#   lk_project: voicemode', 'a project in ~/.livekit/cli-config.yaml for the lk CLI'],
    [''],
    ['# hosts:', 'per machine, merged over the above (later wins; lists replace)'],
    ['#   "homeserver":', 'host name glob (* and ?), short name or FQDN'],
    ['#     services:', '`vm render --host NAME` shows what a host gets'],
    ['#       livekit: { region: home }'],
  ];
  const width = 36;
  // A row with no code continues the comment above it.
  return rows.map(([code, comment]) => (comment === undefined ? code : `${code.padEnd(width - 1)} # ${comment}`)).join('\n') + '\n';
}
