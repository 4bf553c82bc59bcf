// A LiveKit set-up in a temp HOME for supervisor tests: a stand-in binary, a config and a key file
// (laid out where vm puts them), and the one ServiceSpec every supervisor runs.

import { livekitPathsFor } from './desired.js';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import type { ServiceSpec, SupervisorKind } from '../../src/model.js';
import { serviceSpec } from '../../src/services/livekit/supervision.js';
import { livekitHealth } from './health.js';
import { freePort } from './ports.js';
import { writeStandin, type StandinOptions } from './standin.js';
import { waitFor } from '../kit/wait.js';

export interface LiveKitHome {
  env: Record<string, string>;
  port: number;
  /** The same paths for every supervisor; only label and definition file differ. */
  spec(kind: SupervisorKind, over?: Partial<ServiceSpec>): ServiceSpec;
  /** GET / on the port: "200 OK", "406 …" or "down". */
  health(): Promise<string>;
  /** Polls health() until it says `want` (default "200 OK"). */
  waitHealth(want?: string, timeoutMs?: number): Promise<void>;
}

export const SECRET = 'supervisor-test-secret-0123456789abcdefghij';

/** `voicemodeHome` may hold spaces, quotes, `&` and `<`: paths are the user's. */
export async function setUpLiveKit(env: Record<string, string>, opts: { voicemodeHome?: string; standin?: Partial<StandinOptions> } = {}): Promise<LiveKitHome> {
  const fullEnv = { ...env, ...(opts.voicemodeHome === undefined ? {} : { VOICEMODE_HOME: opts.voicemodeHome }) };
  const paths = livekitPathsFor(fullEnv);
  const port = await freePort();
  await writeStandin(paths.binary, { version: '1.9.0', readyAfterMs: 300, ...opts.standin });
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await chmod(paths.dir, 0o700);
  await writeFile(paths.keyFile, `apikey1: ${SECRET}\n`, { mode: 0o600 });
  await writeFile(
    paths.config,
    [`port: ${port}`, 'bind_addresses: [127.0.0.1]', 'rtc: { port_range_start: 51000, port_range_end: 51100, use_external_ip: false }', `key_file: ${JSON.stringify(paths.keyFile)}`, ''].join('\n'),
    { mode: 0o600 },
  );
  await mkdir(paths.logDir, { recursive: true, mode: 0o700 });
  const health = () => livekitHealth(port);
  return {
    env: fullEnv,
    port,
    spec: (kind, over = {}) => ({ ...serviceSpec({ autostart: true }, paths, kind, paths.binary), ...over }),
    health,
    waitHealth: async (want = '200 OK', timeoutMs = 10_000) => {
      let last = '';
      await waitFor(() => `health ${want}, still ${last}`, async () => (last = await health()) === want, timeoutMs);
    },
  };
}
