// Rebuilds the React example app into a temporary directory and fails if the build the demo
// embeds (examples/src/demo/page/react) differs from it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const committed = resolve(root, '../examples/src/demo/page/react');
const temp = mkdtempSync(join(tmpdir(), 'sse-react-'));
try {
  const build = spawnSync('npm', ['run', '--silent', 'build:react'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, REACT_OUT_DIR: temp },
  });
  if (build.status !== 0) {
    console.error('check-react: the build failed');
    process.exitCode = 1;
  } else {
    const fresh = readdirSync(temp).sort();
    const have = readdirSync(committed).sort();
    const stale = [...new Set([...fresh, ...have])].filter((file) => {
      try {
        return !readFileSync(join(temp, file)).equals(readFileSync(join(committed, file)));
      } catch {
        return true;
      }
    });
    if (stale.length > 0) {
      console.error(`check-react: the embedded build is stale (${stale.join(', ')}); run \`npm run build:react\` and commit it.`);
      process.exitCode = 1;
    } else {
      console.log(`check-react: the embedded build is up to date (${fresh.length} files)`);
    }
  }
} finally {
  rmSync(temp, { recursive: true, force: true });
}
