// The file's supervised-HTTP services → desired state: `command` as written; a preset (whisper,
// kokoro: their folders) renders its command line from its own fields. Pure; `~` expanded.

import { join } from 'node:path';
import type { KindName, ServiceName, ServiceState } from '../../model.js';
import type { HttpKindName, HttpServiceDesired } from './model.js';

/** What the user wrote for one of these services (validated by the schema). */
export interface WrittenHttp {
  readonly kind?: KindName;
  readonly state?: ServiceState;
  readonly autostart?: boolean;
  readonly remove_data?: boolean;
  readonly port?: number;
  readonly bind_addresses?: readonly string[];
  readonly health?: { readonly path?: string; readonly timeout?: number | string };
  readonly logging?: { readonly max_size?: number | string };
  readonly env?: Readonly<Record<string, string>>;
  readonly install?: { readonly method?: 'path'; readonly path?: string };
  readonly allow_insecure?: boolean;
  // command
  readonly command?: readonly string[];
  readonly working_dir?: string;
}

export interface NormaliseTools {
  readonly expandHome: (path: string) => string;
  readonly parseDuration: (v: unknown) => number | undefined;
  readonly parseSize: (v: unknown) => number | undefined;
  /** $VOICEMODE_HOME (expanded), where vm's own service directories are. */
  readonly voicemodeHome: string;
}

const LOG_MAX_BYTES = 10 * 1024 * 1024;

/** What a service's entry says before its command line is rendered: every preset's common part. */
export interface HttpBase {
  readonly name: ServiceName;
  readonly port: number;
  /** The address it listens on (presets take one --host). */
  readonly host: string;
  /** $VOICEMODE_HOME/services/NAME: where vm keeps its files (and a preset's default install). */
  readonly dir: string;
}

/** What the command line comes to: what the supervisor runs, and with what. */
export type Rendered = Pick<HttpServiceDesired, 'command' | 'program' | 'workingDir' | 'env' | 'model'>;

/**
 * How one kind of supervised HTTP service reads its entry: its defaults, and how its own fields
 * become the command line (a preset renders it; `command` takes it as written).
 */
export interface HttpNormalise {
  /** port undefined: the file must give one (the schema part requires it). */
  readonly defaults: { readonly port: number | undefined; readonly healthPath: string; readonly timeoutMs: number };
  render(w: WrittenHttp, base: HttpBase, t: NormaliseTools): Rendered;
}

/** `kind: command`: the command line as written, `~/` expanded in every argument. */
export const COMMAND: HttpNormalise = {
  defaults: { port: undefined, healthPath: '/health', timeoutMs: 60_000 },
  render(w, _base, t) {
    const command = (w.command ?? []).map((a) => (a.startsWith('~/') ? t.expandHome(a) : a));
    return { command, program: command[0] ?? '', workingDir: w.working_dir === undefined ? undefined : t.expandHome(w.working_dir), env: { ...w.env }, model: undefined };
  },
};

export function normaliseHttp(name: ServiceName, kind: HttpKindName, how: HttpNormalise, w: WrittenHttp, t: NormaliseTools): HttpServiceDesired {
  const state = w.state ?? 'running';
  const port = w.port ?? how.defaults.port ?? 0;
  const bindAddresses = [...(w.bind_addresses ?? ['127.0.0.1'])];
  const base = {
    name,
    kind,
    state,
    autostart: w.autostart ?? state === 'running',
    removeData: w.remove_data ?? false,
    port,
    bindAddresses,
    logging: { maxBytes: t.parseSize(w.logging?.max_size) ?? LOG_MAX_BYTES },
    health: { path: w.health?.path ?? how.defaults.healthPath, timeoutMs: t.parseDuration(w.health?.timeout) ?? how.defaults.timeoutMs },
  };
  return { ...base, ...how.render(w, { name, port, host: bindAddresses[0] ?? '127.0.0.1', dir: join(t.voicemodeHome, 'services', name) }, t) };
}
