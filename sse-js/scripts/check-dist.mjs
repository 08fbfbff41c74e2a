// Rebuilds into a temporary directory and fails if the committed dist/ differs from it.
// dist/ is committed because the demo server serves it to browsers as it is.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const temp = mkdtempSync(join(tmpdir(), 'sse-js-dist-'));
const fresh = join(temp, 'dist');

function files(dir) {
  if (!existsSync(dir)) {
    return [];
  }
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      out.push(...files(path));
    } else {
      out.push(path);
    }
  }
  return out;
}

try {
  const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs'), fresh], {
    cwd: root,
    stdio: 'inherit',
  });
  if (build.status !== 0) {
    console.error('check-dist: the build failed');
    process.exitCode = 1;
  } else {
    const expected = new Set(files(fresh).map((f) => relative(fresh, f)));
    const actual = new Set(files(dist).map((f) => relative(dist, f)));
    const problems = [];
    for (const file of [...expected].sort()) {
      if (!actual.has(file)) {
        problems.push(`missing: dist/${file}`);
      } else if (!readFileSync(join(fresh, file)).equals(readFileSync(join(dist, file)))) {
        problems.push(`differs: dist/${file}`);
      }
    }
    for (const file of [...actual].sort()) {
      if (!expected.has(file)) {
        problems.push(`not produced by the build: dist/${file}`);
      }
    }
    if (problems.length > 0) {
      console.error('check-dist: the committed dist/ is not what `npm run build` produces:');
      for (const problem of problems) {
        console.error(`  ${problem}`);
      }
      console.error('Run `npm run build` and commit dist/.');
      process.exitCode = 1;
    } else {
      console.log(`check-dist: dist/ is up to date (${expected.size} files)`);
    }
  }
} finally {
  rmSync(temp, { recursive: true, force: true });
}
