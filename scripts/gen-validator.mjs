// Compiles the file's JSON Schema (assembled from its parts by scripts/gen-schema.mjs: the same
// document as the committed schemas/voicemode.services.schema.json) into a standalone validator.
//
// Why standalone: compiling the schema with ajv at run time costs 60–130 ms on every `vm plan`;
// the generated module loads in a few ms and needs no ajv at run time.
// Output: src/spec/generated/validate.js (generated, not committed). Its types live in the
// hand-written validate.d.ts next to it.
//
// Besides the default export (the validate function) the module exports, so an "unknown key"
// message can list what is allowed, for each closed object (additionalProperties: false) its
// path → the keys it allows: `allowedKeys` outside services, `kindKeys` per kind (paths inside
// one service entry); and which kinds a service's name alone selects (`namedKinds`).

import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020Module from 'ajv/dist/2020.js';
import standaloneModule from 'ajv/dist/standalone/index.js';
import { assembleSchema, kindParts } from './gen-schema.mjs';

const Ajv2020 = Ajv2020Module.default ?? Ajv2020Module;
const standaloneCode = standaloneModule.default ?? standaloneModule;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outPath = join(root, 'src', 'spec', 'generated', 'validate.js');

const schema = assembleSchema();
const parts = kindParts();

/**
 * The schema without annotations: ajv embeds the schema in the module, and only editors read
 * them. Keys of `properties`/`$defs` are names, not keywords, so they are kept.
 */
const ANNOTATIONS = new Set(['description', 'title', 'examples', 'default', '$comment']);
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs']);
function withoutAnnotations(node) {
  if (Array.isArray(node)) return node.map(withoutAnnotations);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (ANNOTATIONS.has(k)) continue;
    if (k === 'enum' || k === 'const') out[k] = v;
    else if (SCHEMA_MAPS.has(k)) out[k] = Object.fromEntries(Object.entries(v).map(([name, sub]) => [name, withoutAnnotations(sub)]));
    else out[k] = withoutAnnotations(v);
  }
  return out;
}

// allowUnionTypes: health.timeout is a number or a duration string.
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, code: { source: true, esm: true } });
const validate = ajv.compile(withoutAnnotations(schema));
let code = standaloneCode(ajv, validate);

// The module must be plain ESM that Node and esbuild load as is, without ajv itself at run time.
// Even with code.esm, ajv emits `require("ajv/dist/runtime/<helper>")` for the few keywords that
// need a helper (minLength → ucs2length, uniqueItems on objects → equal). Turn those into ESM
// imports (helpers are small CommonJS files; their module.exports.default is the function).
// This schema needs none today; anything other than a runtime helper is refused.
let helpers = 0;
code = code.replace(/const (\w+) = require\("(ajv\/dist\/runtime\/[\w-]+)"\)\.default;/g, (_, name, spec) => {
  helpers++;
  return `import ${name}$module from "${spec}.js";const ${name} = ${name}$module.default;`;
});
if (/\brequire\(/.test(code)) {
  throw new Error('generated validator still calls require(): teach scripts/gen-validator.mjs to rewrite it');
}
const imports = [...code.matchAll(/\bimport\s+[\w$]+\s+from\s*"([^"]+)"/g)].map((m) => m[1]);
const forbidden = imports.filter((spec) => !/^ajv\/dist\/runtime\/[\w-]+\.js$/.test(spec));
if (forbidden.length > 0) {
  throw new Error(`generated validator imports ${forbidden.join(', ')}: it must not depend on ajv at run time`);
}

/**
 * Walks the schema along `properties` (following local $refs) and records, for every closed
 * object, its instance path → the keys it allows. Keyed by instance path because ajv gives
 * errors inside a $ref'd schema a schemaPath relative to that schema, which is ambiguous.
 * Below a map of user-chosen names (`additionalProperties: {schema}`, e.g. keys) the name is
 * written `*`: messages.ts matches such paths by shape. `then`/`else` branches are walked too
 * (a secret is text or a closed { env | file } mapping). The services map is not walked from
 * the top: each kind's entry is walked on its own (kindKeys), since which one applies depends
 * on the entry.
 */
function closedObjects(node, instancePath, out) {
  if (node === null || typeof node !== 'object') return out;
  if (node === schema.properties.services) return out;
  if (typeof node.$ref === 'string') {
    const target = node.$ref.replace(/^#\//, '').split('/').reduce((n, seg) => n?.[seg], schema);
    if (target === undefined) throw new Error(`unresolved $ref ${node.$ref}`);
    closedObjects(target, instancePath, out);
  }
  if (node.additionalProperties === false && node.properties) {
    out[instancePath] = Object.keys(node.properties);
  }
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    closedObjects(child, `${instancePath}/${key}`, out);
  }
  if (typeof node.additionalProperties === 'object') closedObjects(node.additionalProperties, `${instancePath}/*`, out);
  for (const branch of ['then', 'else']) closedObjects(node[branch], instancePath, out);
  return out;
}

code =
  '// GENERATED by scripts/gen-validator.mjs from the schema scripts/gen-schema.mjs assembles. Do not edit.\n' +
  '/* eslint-disable */\n' +
  code +
  `\nexport const allowedKeys = ${JSON.stringify(closedObjects(schema, '', {}))};\n` +
  `export const kindKeys = ${JSON.stringify(Object.fromEntries(parts.map((p) => [p.kind, closedObjects(p.schema, '', {})])))};\n` +
  `export const namedKinds = ${JSON.stringify(parts.filter((p) => p.byName).map((p) => p.kind))};\n`;

mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, code);
console.log(`wrote ${outPath.slice(root.length + 1)} (${code.length} bytes, ${helpers} ajv runtime helpers)`);
