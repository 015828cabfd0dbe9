/**
 * Turns component bytes into {@link ComponentCode}: jco transpiles them to glue and core
 * modules, in memory; the core modules are compiled (with the memory cap written into their
 * limits) and the world is read for the functions' types. Done once per content and cap: a
 * reload or a second bridge of the same bytes reuses it.
 */
import { MemoryLimitError, WasmCompileError } from '../errors.js';
import { capMemoryPages } from '../bridge/wasm-binary.js';
import { sha256 } from '../util/sha256.js';
import type { ComponentCode, ComponentImport } from './component-code.js';
import { parseWorld } from './wit-parse.js';

const GLUE_NAME = 'guest';
/** Compiled components kept for reuse (a reload back to a previous build, a second bridge). */
const CACHE_SIZE = 16;
const cache = new Map<string, Promise<ComponentCode>>();

/**
 * Transpiles and compiles a component, or returns the same content's earlier result.
 * @throws `ERR_WASM_COMPILE` for bytes jco cannot read, `ERR_MEMORY_LIMIT` when a core
 *   module's initial memory is over `maxPages`
 */
export function compileComponent(
  bytes: Uint8Array,
  maxPages: number | undefined,
): Promise<ComponentCode> {
  const hash = sha256(bytes);
  const key = `${hash}:${maxPages ?? ''}`;
  let entry = cache.get(key);
  if (!entry) {
    entry = compile(bytes, hash, maxPages);
    cache.set(key, entry);
    entry.catch(() => cache.delete(key));
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  return entry;
}

async function compile(
  bytes: Uint8Array,
  hash: string,
  maxPages: number | undefined,
): Promise<ComponentCode> {
  let files: Record<string, Uint8Array>;
  let wit: string;
  // Loaded on first use, not at import: jco compiles megabytes of wasm when loaded, which every
  // worker thread (and every process running only core modules) would pay for.
  const [{ transpileBytes }, { componentWit }] = await Promise.all([
    import('@bytecodealliance/jco-transpile'),
    import('@bytecodealliance/jco-transpile/wasm-tools'),
  ]);
  try {
    ({ files } = await transpileBytes(bytes, { name: GLUE_NAME, instantiation: 'async' }));
    wit = await componentWit(bytes);
  } catch (error) {
    throw new WasmCompileError(
      `The component could not be read: ${describe(error)}. Is the file truncated, or not ` +
        `built with a component toolchain (wasm-tools component new, cargo component, jco)?`,
      { cause: error, details: { bytes: bytes.length } },
    );
  }
  const coreModules: Record<string, WebAssembly.Module> = {};
  for (const [name, content] of Object.entries(files)) {
    if (!name.endsWith('.wasm')) continue;
    coreModules[name] = await compileCore(name, content, maxPages);
  }
  const source = new TextDecoder().decode(files[`${GLUE_NAME}.js`]);
  let world;
  try {
    world = parseWorld(wit);
  } catch (error) {
    throw new WasmCompileError(`The component's WIT world could not be read: ${describe(error)}.`, {
      cause: error,
      details: { wit },
    });
  }
  return { hash, glue: glueScript(source), coreModules, world, imports: glueImports(source) };
}

async function compileCore(
  name: string,
  content: Uint8Array,
  maxPages: number | undefined,
): Promise<WebAssembly.Module> {
  let source = content;
  if (maxPages !== undefined) {
    try {
      source = capMemoryPages(content, maxPages) ?? content;
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new MemoryLimitError(
        `${error.message} in the component's ${name}: raise maxMemoryMb.`,
        {
          cause: error,
          details: { maxPages },
        },
      );
    }
  }
  try {
    return await WebAssembly.compile(source as Uint8Array<ArrayBuffer>);
  } catch (error) {
    throw new WasmCompileError(
      `The component's core module ${name} does not compile: ${describe(error)}.`,
      {
        cause: error,
        details: { module: name },
      },
    );
  }
}

/**
 * The glue as a classic script evaluating to its `instantiate`: it can then be evaluated
 * synchronously in any thread. Its debug switch (`process.env.JCO_DEBUG`, which it read on
 * every call) is read once, when the script is evaluated.
 */
function glueScript(source: string): string {
  const body = source
    .replace(/globalThis\?\.process\?\.env\?\.JCO_DEBUG/g, 'jcoDebug')
    .replace(/^export function instantiate\(/m, 'function instantiate(')
    .replace(/^export const /gm, 'const ')
    .replace(/import\.meta\.url/g, 'undefined');
  return (
    '(function () {\n"use strict";\nconst jcoDebug = Boolean(globalThis.process?.env?.JCO_DEBUG);\n' +
    `${body}\nreturn instantiate;\n})()`
  );
}

/** The interfaces and names the glue takes from its imports object. */
function glueImports(source: string): ComponentImport[] {
  const byKey = new Map<string, Set<string>>();
  for (const match of source.matchAll(/const \{([^}]*)\} = imports\['([^']+)'\];/g)) {
    const names = byKey.get(match[2]!) ?? new Set<string>();
    for (const name of match[1]!.split(',')) {
      const local = name.split(':')[0]!.trim();
      if (local) names.add(local);
    }
    byKey.set(match[2]!, names);
  }
  return [...byKey].map(([key, names]) => ({ key, names: [...names] }));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
