// Compiles every <dir>/*.wat to <dir>/../<name>.wasm with the npm `wabt` package,
// so the hand-written test guests build without a system wat2wasm.
//
// Usage: node scripts/build-wat.mjs [dir ...]   (default: test/fixtures/wat)
// Relative dirs are resolved against the repository root, not the cwd.

import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dirs = process.argv.slice(2);
if (dirs.length === 0) dirs.push('test/fixtures/wat');

const wabt = await wabtInit();

for (const dir of dirs.map((d) => resolve(root, d))) {
  const sources = (await readdir(dir)).filter((f) => f.endsWith('.wat')).sort();
  if (sources.length === 0) throw new Error(`no .wat files in ${dir}`);
  for (const source of sources) {
    const out = join(dirname(dir), `${basename(source, '.wat')}.wasm`);
    const module = wabt.parseWat(source, await readFile(join(dir, source), 'utf8'));
    try {
      module.validate();
      // No debug names: the bytes depend only on the source.
      const { buffer } = module.toBinary({ write_debug_names: false });
      await writeFile(out, buffer);
      console.log(`${source} -> ${out.slice(root.length + 1)} (${buffer.length} bytes)`);
    } finally {
      module.destroy();
    }
  }
}
