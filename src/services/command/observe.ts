// Observes a supervised HTTP service. Never changes anything; everything absent is a value.
// One round of concurrent probes, like LiveKit's.

import type { HttpObserved, HttpServiceDesired, PathPresence } from '../../model.js';
import type { Facts } from '../../facts/facts.js';
import type { Host } from '../../platform/host.js';
import { listening, ownersOf } from '../../platform/port-holder.js';
import { foreignOf, localAddresses } from '../../resources/listening.js';
import { observeHealth } from '../../resources/health.js';
import { parseRecord } from '../../resources/ownership.js';
import type { HttpPaths } from './paths.js';
import { httpHealthUrl, httpServiceSpec } from './spec.js';

export async function observeHttp(host: Host, d: HttpServiceDesired, paths: HttpPaths, facts: Facts): Promise<HttpObserved> {
  const [sup, program, workingDir, model, modelsDir, unitFile, logDir, written, health, lingering, listeners] = await Promise.all([
    facts.supervise((kind) => httpServiceSpec(d, paths, kind)),
    presence(host, d.program),
    d.workingDir === undefined ? Promise.resolve(undefined) : presence(host, d.workingDir),
    d.model === undefined ? Promise.resolve(undefined) : presence(host, d.model.path),
    host.stat(paths.modelsDir),
    host.readFile(paths.unitFile),
    host.stat(paths.logDir),
    host.readFile(paths.writtenRecord).then(parseRecord),
    observeHealth(host, httpHealthUrl(d), 'http'),
    facts.lingering(),
    // Who listens on its port: whether that is vm's process needs its pid, below (Linux only).
    listening(host, [{ port: d.port, addresses: d.bindAddresses }]),
  ]);
  const kind = sup.supervisor.kind === 'unavailable' ? undefined : sup.supervisor.kind;
  const [definition, owners] = await Promise.all([
    kind === 'systemd' ? unitFile : kind === 'launchd' ? host.readFile(paths.plistFile) : ({ exists: false } as const),
    ownersOf(host, listeners, sup.runtime?.running === true ? sup.runtime.pid : undefined),
  ]);
  const holder = foreignOf(owners?.[0]);
  return {
    kind: 'http',
    supervisor: sup.supervisor,
    ...(lingering === undefined || kind !== 'systemd' ? {} : { lingering }),
    program,
    workingDir,
    model,
    modelsDirExists: modelsDir !== undefined,
    definition,
    runtime: sup.runtime,
    logDirMode: logDir?.mode,
    logDirExists: logDir !== undefined,
    written,
    ...(holder === undefined ? {} : { portHolder: holder }),
    localAddresses: localAddresses(host),
    // Whatever answered, it was not vm's process: health is the service's own answer only.
    health: holder === undefined ? health : { kind: 'foreign', ...holder },
  };
}

async function presence(host: Host, path: string): Promise<PathPresence> {
  const st = await host.stat(path);
  if (st === undefined) return { exists: false };
  return { exists: true, kind: st.kind, executable: (st.mode & 0o111) !== 0, mtimeMs: st.mtimeMs, size: st.size };
}
