// Observes LiveKit's five resources. Never changes anything; everything absent is a value.
// All probes run concurrently: `vm plan` waits for the slowest, not the sum.

import type { BinaryState, HealthState, LiveKitDesired, LiveKitObserved, ServicePaths, SupervisorState } from '../../model.js';
import type { Host } from '../../platform/host.js';
import { showUnit } from '../../platform/systemd.js';
import { healthUrl } from './render.js';

export async function observeLiveKit(host: Host, desired: LiveKitDesired, paths: ServicePaths): Promise<LiveKitObserved> {
  const [binary, config, keyFile, keyDirMode, logDirMode, unitFile, wants, show, health] = await Promise.all([
    observeBinary(host, paths.binary),
    host.readFile(paths.config),
    host.readFile(paths.keyFile),
    host.stat(paths.dir).then((s) => s?.mode),
    host.stat(paths.logDir).then((s) => s?.mode),
    host.readFile(paths.unitFile),
    host.stat(paths.wantsLink),
    showUnit(host, paths.unitName),
    observeHealth(host, healthUrl(desired)),
  ]);
  const supervisor: SupervisorState = show.ok
    ? { kind: 'systemd', why: 'a systemd user manager answers' }
    : { kind: 'unavailable', why: show.why };
  const enabled = wants !== undefined;
  return { supervisor, binary, config, keyFile, keyDirMode, logDirMode, unitFile, enabled, unit: show.ok ? show.unit : undefined, health };
}

export async function observeBinary(host: Host, path: string): Promise<BinaryState> {
  const file = await host.stat(path);
  if (file === undefined || file.kind !== 'file') return { kind: 'absent', path };
  const r = await host.exec(path, ['--version'], { timeoutMs: 5_000 });
  const m = /version\s+v?(\d+\.\d+\.\d+)/.exec(r.stdout);
  if (r.code !== 0 || m?.[1] === undefined) {
    const detail = r.error ?? (`exit ${r.code}: ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`.trim());
    return { kind: 'broken', path, detail };
  }
  return { kind: 'present', path, version: m[1], mtimeMs: file.mtimeMs };
}

export async function observeHealth(host: Host, url: string, timeoutMs = 1_000): Promise<HealthState> {
  const r = await host.httpGet(url, timeoutMs);
  return classifyHealth(r);
}

export function classifyHealth(r: Awaited<ReturnType<Host['httpGet']>>): HealthState {
  if (!r.ok) return { kind: 'unhealthy', detail: r.error };
  // Only `/` says whether LiveKit is ready; there is no /health endpoint (FACTS.md).
  if (r.status === 200 && r.body.trim() === 'OK') return { kind: 'healthy' };
  if (r.status === 406) return { kind: 'starting', status: 406 };
  return { kind: 'unhealthy', detail: `GET / answered ${r.status}` };
}
