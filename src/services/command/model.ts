// The supervised HTTP services' part of vm's vocabulary (types only): `command`, and the presets
// over it (whisper, kokoro). It adds `command` to the ServiceKinds of src/model.ts; each preset
// adds itself from its own folder.

import type { KindName, PathPresence, ServiceDesiredBase, ServiceKinds } from '../../model.js';
import type { SupervisedObserved } from '../../resources/supervised-observe.js';

/** `command` and every preset over it: the kinds whose desired state is an HttpServiceDesired. */
export type HttpKindName = { [K in KindName]: ServiceKinds[K]['desired'] extends HttpServiceDesired ? K : never }[KindName];

/**
 * A model file for whisper: one the user points at (never touched), or one vm downloads into its
 * own models directory, checked against its sha256 before it is used.
 */
export type ModelSpec =
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'download'; readonly url: string; readonly sha256: string; readonly path: string };

/**
 * A supervised local HTTP service: any program (`command`), or the whisper and kokoro presets,
 * which render their command line from their own fields. Health is an HTTP GET of `health.path`.
 */
export interface HttpServiceDesired extends ServiceDesiredBase {
  readonly kind: HttpKindName;
  /** The program and its arguments, `~` expanded: what the supervisor runs. */
  readonly command: readonly string[];
  /** The program vm never installs or changes: it must exist (argv[0], or kokoro's checkout). */
  readonly program: string;
  readonly workingDir: string | undefined;
  /** Added to the service's environment (the unit's Environment=, the plist, the process). */
  readonly env: Readonly<Record<string, string>>;
  readonly health: { readonly timeoutMs: number; readonly path: string };
  readonly model: ModelSpec | undefined;
}

/** What is on the machine for a supervised HTTP service (command, whisper, kokoro). */
export interface HttpObserved extends SupervisedObserved {
  readonly kind: 'http';
  readonly workingDir: PathPresence | undefined;
  /** The model file, when the service declares one. */
  readonly model: PathPresence | undefined;
  /** Whether vm's models directory exists (absent removes it). */
  readonly modelsDirExists: boolean;
}


declare module '../../model.js' {
  interface ServiceKinds {
    command: { readonly desired: HttpServiceDesired; readonly observed: HttpObserved };
  }
}
