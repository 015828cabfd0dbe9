import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { WasmCompileError, WasmFileNotFoundError, WasmFileReadError } from '../errors.js';

interface ComponentizeFlags {
  wit: string;
  world?: string;
  out: string;
}

/**
 * `wasmtube componentize <core> --wit <file> --out <file>`: a WebAssembly component from a core
 * module implementing the canonical ABI and a WIT world, offline (the wasm-tools jco-transpile
 * carries: componentEmbed + componentNew).
 */
export function componentizeCommand(): Command {
  return new Command('componentize')
    .description(
      'Make a WebAssembly component from a core module (.wasm or .wat) that implements a WIT ' +
        'world with the canonical ABI: embeds the world and wraps the module, offline.',
    )
    .argument('<core>', 'the core module: .wasm, or .wat text')
    .requiredOption(
      '--wit <file>',
      'the WIT file declaring the world (dependencies as nested packages)',
    )
    .option('--world <name>', 'the world, if the file declares several')
    .requiredOption('-o, --out <file>', 'where to write the component')
    .addHelpText(
      'after',
      `
Example:
  $ wasmtube componentize target/wasm32-unknown-unknown/release/guest.wasm --wit wit/world.wit -o guest.wasm`,
    )
    .action(async (core: string, flags: ComponentizeFlags) => {
      const source = core.endsWith('.wat') ? await read(core, 'utf8') : await read(core);
      const witSource = await read(flags.wit, 'utf8');
      // Loaded only here: wasm-tools compiles a few MB of wasm.
      const { componentEmbed, componentNew, parse } =
        await import('@bytecodealliance/jco-transpile/wasm-tools');
      let component: Uint8Array;
      try {
        const binary = typeof source === 'string' ? await parse(source) : source;
        const world = flags.world ? { world: flags.world } : {};
        component = await componentNew(await componentEmbed({ binary, witSource, ...world }));
      } catch (error) {
        throw new WasmCompileError(
          `${core} and ${flags.wit} do not make a component: ` +
            `${(error as Error)?.message ?? String(error)}. Check that the module exports each ` +
            'function of the world under its WIT name with its canonical ABI signature (and ' +
            'memory, cabi_realloc), and that --world names the world.',
          { cause: error, details: { core, wit: flags.wit } },
        );
      }
      await writeFile(flags.out, component);
      process.stdout.write(`wrote ${flags.out} (${component.length} bytes, a component)\n`);
    });
}

async function read(file: string): Promise<Buffer>;
async function read(file: string, encoding: 'utf8'): Promise<string>;
async function read(file: string, encoding?: 'utf8'): Promise<Buffer | string> {
  try {
    return await readFile(file, encoding);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new WasmFileNotFoundError(`No file at ${resolve(file)}.`, { details: { path: file } });
    }
    throw new WasmFileReadError(`Cannot read ${file}: ${(error as Error).message}`, {
      cause: error,
      details: { path: file, errno: code },
    });
  }
}
