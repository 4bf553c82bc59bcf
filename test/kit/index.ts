// The test kit: what every integration test reaches for, in one place — the `vm` runner, one
// waitFor, a services-file builder, and a stand-in per kind (the servers that cannot be
// downloaded here, imitating the real ones: see README, Tests).

export { ROOT, runVm, transcript, type VmResult } from '../helpers/vm.js';
export { spawnVm, type VmChild, type VmChildResult } from '../helpers/vm-child.js';
export { standinScript, writeStandin, type StandinOptions } from '../helpers/standin.js';
export { makeWhisperModel, whisperStandinScript, writeWhisperStandin } from '../helpers/whisper-standin.js';
export { writeKokoroCheckout, type KokoroCheckout } from '../helpers/kokoro-checkout.js';
export { startCloudStandin, type CloudStandin } from '../helpers/cloud-standin.js';
export { freePort, freePorts } from '../helpers/ports.js';
export { waitFor } from './wait.js';
export {
  commandEntry,
  kokoroEntry,
  livekitEntry,
  redisEntry,
  servicesFile,
  whisperEntry,
  type Entry,
  type Install,
  type KokoroOptions,
  type LiveKitOptions,
  type Secret,
  type WhisperOptions,
} from './spec.js';
