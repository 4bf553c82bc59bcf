// Hand-written types for validate.js, which scripts/gen-validator.mjs generates from
// schemas/voicemode.services.schema.json (run it before type-checking, testing or building).
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

/** Instance path of every closed object (additionalProperties: false) → the keys it allows. */
export declare const allowedKeys: Readonly<Record<string, readonly string[]>>;
