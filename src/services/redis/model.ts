// A redis service's part of vm's vocabulary (types only). It adds itself to the ServiceKinds of
// src/model.ts.

import type { FileState, ServiceDesiredBase } from '../../model.js';
import type { SupervisedObserved } from '../../resources/supervised-observe.js';

/** A Redis server vm supervises (`services.redis`); health is PING → PONG. */
export interface RedisDesired extends ServiceDesiredBase {
  readonly kind: 'redis';
  /** redis-server: vm never installs or changes it. */
  readonly program: string;
  /** requirepass; undefined: none (refused beyond loopback). */
  readonly password: string | undefined;
}

/** What is on the machine for a `redis` service. */
export interface RedisObserved extends SupervisedObserved {
  readonly kind: 'redis';
  readonly config: FileState;
  /** Its data directory (dir under ~/.voicemode/services/NAME): mode, undefined when missing. */
  readonly dataDirMode: number | undefined;
}


declare module '../../model.js' {
  interface ServiceKinds {
    redis: { readonly desired: RedisDesired; readonly observed: RedisObserved };
  }
}
