// Checks what `npm pack` would publish (its --json report on stdin): the name, every file the
// exports, types and typesVersions name, the licenses and README, and nothing of the tests.
// Usage: npm pack --dry-run --json | node scripts/check-pack.mjs
import { readFileSync } from 'node:fs';

const [report] = JSON.parse(readFileSync(0, 'utf8'));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const files = new Set(report.files.map((file) => file.path));
const needed = new Set(['README.md', 'CHANGELOG.md', 'LICENSE-MIT', 'LICENSE-APACHE', 'package.json']);
const walk = (value) => {
  if (typeof value === 'string') {
    if (value.startsWith('./dist/')) needed.add(value.slice(2));
  } else if (value && typeof value === 'object') {
    Object.values(value).forEach(walk);
  }
};
walk([pkg.main, pkg.types, pkg.exports, pkg.typesVersions]);
for (const file of [...files].filter((f) => f.startsWith('dist/') && f.endsWith('.js'))) {
  needed.add(`${file}.map`);
}
const problems = [];
if (report.name !== pkg.name) problems.push(`packs ${report.name}, not ${pkg.name}`);
for (const file of needed) {
  if (!files.has(file)) problems.push(`${file} is not in the package`);
}
for (const file of files) {
  if (/^(test|node_modules|scripts)\//.test(file)) problems.push(`${file} should not be in the package`);
}
if (problems.length > 0) {
  console.error(`check-pack:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`check-pack: ${report.name}@${report.version}, ${report.entryCount} files, ${report.size} B packed`);
