// Rules for `clients:` the schema cannot express: a `~/` path, and lk's config, need HOME.
// (The schema checks the shapes: env_file absolute or ~/, lk_project as lk names projects.)

import type { SpecProblem } from '../model.js';
import { valueAt } from './messages.js';
import { homeDir, type Env } from './normalise.js';
import { locate, type ParsedSpec } from './parse.js';

export function checkClientRules(spec: ParsedSpec, env: Env): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const envFile = valueAt(spec.data, '/clients/env_file');
  if (typeof envFile === 'string' && envFile.startsWith('~/') && homeDir(env) === undefined) {
    const pointer = '/clients/env_file';
    const { line, column } = locate(spec, pointer, 'value');
    problems.push({ file: spec.file, line, column, pointer, message: 'env_file starts with ~/ but HOME is not set to an absolute path; write the full path' });
  }
  const lk = valueAt(spec.data, '/clients/lk_project');
  if (typeof lk === 'string' && homeDir(env) === undefined) {
    const pointer = '/clients/lk_project';
    const { line, column } = locate(spec, pointer, 'value');
    problems.push({ file: spec.file, line, column, pointer, message: 'lk_project needs HOME set to an absolute path: lk keeps its projects in ~/.livekit/cli-config.yaml' });
  }
  return problems;
}
