// Schema validation of the parsed document through the standalone validator generated from
// schemas/voicemode.services.schema.json (no ajv at run time: it loads in a few ms).
// Every violation becomes one located SpecProblem; ajv's wrapper errors are dropped.

import type { ErrorObject } from 'ajv';
import type { SpecProblem } from '../model.js';
import validateDocument from './generated/validate.js';
import { describe } from './messages.js';
import { locate, sourceText } from './parse.js';
import type { ParsedSpec } from './parse.js';

/**
 * When one node has several errors, the first of these explains it best: an unknown or
 * misplaced key makes its value moot; a wrong type makes range and pattern errors moot.
 */
function rank(err: ErrorObject): number {
  switch (err.keyword) {
    case 'additionalProperties':
    case 'false schema':
      return 0;
    case 'type':
      return 1;
    default:
      return 2;
  }
}

/** Problems in `spec` that the schema can see, one per place, in file order. */
export function validateSchema(spec: ParsedSpec): SpecProblem[] {
  if (validateDocument(spec.data)) return [];
  const errors = [...(validateDocument.errors ?? [])].sort((a, b) => rank(a) - rank(b));
  const problems: SpecProblem[] = [];
  const seen = new Set<string>();
  for (const err of errors) {
    const d = describe(err, spec.data, (pointer) => sourceText(spec, pointer));
    // One problem per place: the best-ranked explains it.
    if (d === undefined || seen.has(d.pointer)) continue;
    seen.add(d.pointer);
    const { line, column } = locate(spec, d.pointer, d.part);
    problems.push({ file: spec.file, line, column, message: d.message, pointer: d.pointer });
  }
  return sortProblems(problems);
}

/**
 * Schema problems plus the rules' problems, except where the schema already reported the same
 * place (a value it rejects is not also judged by a rule), in file order.
 */
export function mergeProblems(schema: readonly SpecProblem[], rules: readonly SpecProblem[]): SpecProblem[] {
  const taken = new Set(schema.map((p) => p.pointer));
  return sortProblems([...schema, ...rules.filter((p) => !taken.has(p.pointer))]);
}

export function sortProblems(problems: SpecProblem[]): SpecProblem[] {
  return problems.sort((a, b) => a.line - b.line || a.column - b.column || a.message.localeCompare(b.message));
}
