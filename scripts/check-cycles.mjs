// Lists import cycles among the TypeScript files under a folder (default: src), counting
// type-only imports too: `node scripts/check-cycles.mjs [folder]`. Exits 1 when there is one.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? 'src');
const files = [];
(function walk(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.c?ts$/.test(entry) && !entry.endsWith('.d.ts')) files.push(path);
  }
})(root);
const known = new Set(files);

// `import … from`, `export … from`, `import '…'` and `import('…')`, relative specifiers only.
const specifiers = /\b(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g;
const graph = new Map();
for (const file of files) {
  const deps = new Set();
  for (const [, spec] of readFileSync(file, 'utf8').matchAll(specifiers)) {
    const target = resolve(dirname(file), spec)
      .replace(/\.js$/, '.ts')
      .replace(/\.cjs$/, '.cts');
    if (known.has(target)) deps.add(target);
  }
  graph.set(file, deps);
}

// Every elementary cycle, each found once from its smallest file name.
const cycles = [];
const sorted = [...files].sort();
for (const [i, start] of sorted.entries()) {
  const allowed = new Set(sorted.slice(i));
  const path = [start];
  const visit = (file) => {
    for (const next of graph.get(file)) {
      if (next === start) cycles.push([...path, start]);
      else if (allowed.has(next) && !path.includes(next)) {
        path.push(next);
        visit(next);
        path.pop();
      }
    }
  };
  visit(start);
}
console.log(
  `${cycles.length} import cycle(s) among ${files.length} files under ${relative('.', root)}`,
);
for (const cycle of cycles) console.log('  ' + cycle.map((f) => relative(root, f)).join(' -> '));
process.exitCode = cycles.length > 0 ? 1 : 0;
