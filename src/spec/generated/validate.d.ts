// Hand-written types for validate.js, which scripts/gen-validator.mjs generates from the schema
// scripts/gen-schema.mjs assembles (run it before type-checking, testing or building).
// Type-only import: the generated module itself never loads ajv.
import type { ErrorObject } from 'ajv';

export interface StandaloneValidate {
  /** True when `data` matches the schema; otherwise `errors` lists every violation (allErrors). */
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

declare const validate: StandaloneValidate;
export default validate;
export { validate };

/**
 * Instance path of every closed object (additionalProperties: false) outside `services` → the
 * keys it allows. `*` stands for a name the user chose (a host pattern, a key name).
 */
export declare const allowedKeys: Readonly<Record<string, readonly string[]>>;

/** The same per kind, for paths inside one service's entry ('' is the entry itself). */
export declare const kindKeys: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;

/** The kinds a service is by its name alone, without `kind:` (each kind's part says: byName). */
export declare const namedKinds: readonly string[];
