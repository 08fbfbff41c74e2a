// Compiles src/ into the given directory (default: dist), which is emptied first.
// Usage: node scripts/build.mjs [outDir]
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = resolve(root, process.argv[2] ?? 'dist');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(outDir, { recursive: true, force: true });
const result = spawnSync(
  process.execPath,
  [tsc, '-p', resolve(root, 'tsconfig.build.json'), '--outDir', outDir],
  { cwd: root, stdio: 'inherit' },
);
if (result.status !== 0) {
  console.error(`build: tsc failed (exit ${result.status ?? result.signal})`);
  process.exit(1);
}
