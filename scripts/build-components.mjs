// Turns core modules into WebAssembly components with the WIT world embedded, offline, with the
// wasm-tools that @bytecodealliance/jco-transpile carries (componentEmbed + componentNew).
// A core module is either a Rust build output or a .wat file (parsed here).
//
// Usage: node scripts/build-components.mjs <core.wasm|core.wat> <world.wit> <world> <out.wasm> [...]
//   (arguments in groups of four). Relative paths resolve against the repository root.

import { readFile, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco-transpile/wasm-tools';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
if (args.length === 0 || args.length % 4 !== 0) {
  console.error(
    'usage: build-components.mjs <core.wasm|core.wat> <world.wit> <world> <out.wasm> [...]',
  );
  process.exit(2);
}

for (let i = 0; i < args.length; i += 4) {
  const [core, wit, world, out] = [args[i], args[i + 1], args[i + 2], args[i + 3]].map((a, j) =>
    j === 2 ? a : resolve(root, a),
  );
  const binary = core.endsWith('.wat')
    ? await parse(await readFile(core, 'utf8'))
    : await readFile(core);
  const embedded = await componentEmbed({ binary, witSource: await readFile(wit, 'utf8'), world });
  const component = await componentNew(embedded);
  await writeFile(out, component);
  console.log(
    `${core.slice(root.length + 1)} + ${world} -> ${out.slice(root.length + 1)} (${component.length} bytes)`,
  );
}
