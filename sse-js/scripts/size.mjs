// Prints what the package adds to an app's bundle: the core entry, and the core with the React
// entry, each bundled from dist/ and minified (rolldown, React left out as the app's own), in
// bytes and gzipped (level 9). The README's table comes from this.
// Usage: node scripts/size.mjs
import { gzipSync } from 'node:zlib';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function bundle(name, code) {
  const build = await rolldown({
    input: 'entry',
    external: ['react'],
    plugins: [{
      name: 'entry',
      resolveId: (id) => (id === 'entry' ? id : null),
      load: (id) => (id === 'entry' ? code : null),
    }],
    logLevel: 'silent',
  });
  const { output } = await build.generate({ format: 'esm', minify: true });
  await build.close();
  const bytes = Buffer.from(output[0].code);
  return { name, minified: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length };
}

const core = `export * from ${JSON.stringify(resolve(root, 'dist/index.js'))};`;
const react = `${core}\nexport * from ${JSON.stringify(resolve(root, 'dist/react.js'))};`;
const rows = [await bundle('core', core), await bundle('core + React hooks', react)];
for (const row of rows) {
  console.log(`${row.name}: ${row.minified} B minified, ${row.gzipped} B gzipped`);
}
