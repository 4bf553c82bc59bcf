// What the pure planners are given besides desired and observed: randomness and digests
// (injected, like a clock, so planning stays deterministic under test) and the unit templates.

export interface PlanContext {
  /** A systemd unit template shipped with vm (`templates/FILE`: a kind names its own). */
  readonly template: (file: string) => string;
  /**
   * A new random secret, asked for only when a generated key has none on disk yet. Memoised by
   * the caller so one command uses one secret.
   */
  readonly freshSecret: () => string;
  /** HMAC-SHA256(salt, data) in hex: digests for vm's record, fingerprints of secrets. */
  readonly hmac: (salt: string, data: string) => string;
  /** A new random salt, when vm has no record yet (memoised like freshSecret). */
  readonly freshSalt: () => string;
  /** --force: overwrite files at managed paths that vm never wrote (keeping a backup). */
  readonly force: boolean;
}
