// The one list of service kinds. A new kind is a folder under src/services/ implementing
// ServiceKind (contract.ts), with its part of the file's schema beside it (schema.json), and one
// line here; nothing else in vm names a kind.

import type { KindName, ServiceDesired, ServiceObserved, ServicePaths } from '../model.js';
import type { ServiceKind } from './contract.js';
import { commandKind } from './command/index.js';
import { kokoroKind } from './kokoro/index.js';
import { livekitKind } from './livekit/index.js';
import { redisKind } from './redis/index.js';
import { whisperKind } from './whisper/index.js';
import { namedKinds } from '../spec/generated/validate.js';

type AnyKind = ServiceKind<ServiceDesired, ServiceObserved, ServicePaths>;

// Each entry is typed by its own kind; the core always hands a kind the desired, observed and
// paths of one service together, so they match (widened once, here).
const KINDS: Readonly<Record<KindName, AnyKind>> = {
  livekit: livekitKind as unknown as AnyKind,
  whisper: whisperKind as unknown as AnyKind,
  kokoro: kokoroKind as unknown as AnyKind,
  command: commandKind as unknown as AnyKind,
  redis: redisKind as unknown as AnyKind,
};

/** The kind of a declared service. */
export function kindOf(d: Pick<ServiceDesired, 'kind'>): AnyKind {
  return KINDS[d.kind];
}

/** The service a command means when none is named (vm logs, the verbs, MCP's tools): LiveKit. */
export const DEFAULT_SERVICE = 'livekit';

/** Every kind, in the order they are listed. */
export const KIND_NAMES = Object.keys(KINDS) as readonly KindName[];

/**
 * The kinds a service is by its name alone (a service called `whisper` is a whisper): those
 * whose schema part says byName (the schema and vm must agree, so the part decides).
 */
export const PRESET_NAMES: readonly KindName[] = namedKinds.filter((k): k is KindName => Object.hasOwn(KINDS, k));

export function kindNamed(kind: KindName): AnyKind {
  return KINDS[kind];
}

/** A name vm could have given a service (the schema's pattern for service names). */
const SERVICE_NAME = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * The services vm can know of without the file: the well-known names, and every name it ever
 * started a service as (`logEntries`: the names in $VOICEMODE_HOME/logs; `vm` there is vm watch's
 * own). Its log directory stays until remove_data, so a service dropped from the file is found.
 */
export function knownServiceNames(logEntries: readonly string[]): string[] {
  return [...new Set([...PRESET_NAMES, ...logEntries.filter((n) => n !== 'vm' && SERVICE_NAME.test(n))])];
}

/** The kind a file names (`kind:` as written, before the schema has judged it), if vm has it. */
export function findKind(kind: string): AnyKind | undefined {
  return Object.hasOwn(KINDS, kind) ? KINDS[kind as KindName] : undefined;
}
