// Generates src/openapi.ts, the TypeScript types of the wire format and the HTTP API, from the
// OpenAPI document the Rust crates derive (sse-axum/openapi.json, which `cargo test` keeps
// current). With --check it writes nothing and fails when src/openapi.ts differs.
// Usage: node scripts/generate-types.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = resolve(root, '../sse-axum/openapi.json');
const target = resolve(root, 'src/openapi.ts');

const header = `/**
 * The wire format and the HTTP API, generated from the OpenAPI document of the Rust crates
 * (sse-axum/openapi.json) by openapi-typescript. Do not edit: run \`npm run generate\`.
 *
 * \`types.ts\` gives the schemas their names.
 *
 * @module
 */

`;

const ast = await openapiTS(JSON.parse(readFileSync(source, 'utf8')), {
  alphabetize: true,
  // A field with a default may be left out of a request: it stays optional.
  defaultNonNullable: false,
  silent: true,
});
const generated = header + astToString(ast);

if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(target, 'utf8');
  } catch {
    // Missing: stale.
  }
  if (committed !== generated) {
    console.error('generate: src/openapi.ts is stale; run `npm run generate` (and `npm run build`) and commit it.');
    process.exitCode = 1;
  } else {
    console.log('generate: src/openapi.ts is up to date');
  }
} else {
  writeFileSync(target, generated);
  console.log(`generate: wrote src/openapi.ts (${generated.length} bytes)`);
}
