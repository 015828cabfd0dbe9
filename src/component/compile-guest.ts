/** Compiling whatever a .wasm file holds: a core module, or a component. */
import {
  compileModule,
  isolationMode,
  memoryCapPages,
  type CompiledModule,
  type CompileOptions,
} from '../bridge/compiled-module.js';
import { byteArray } from '../bridge/check-options.js';
import { isComponent } from './component-binary.js';
import { compileComponent } from './compile-component.js';

/** What loading a guest of either kind takes, from one place. */
export { readWasmFile, type CompiledModule } from '../bridge/compiled-module.js';

/**
 * Compiles a core module (synchronously, as `compileModule`) or a component (transpiled by jco
 * once per content, its core modules compiled once), told apart by the preamble. The result can
 * be posted to a worker thread.
 * @throws `ERR_WASM_COMPILE`, `ERR_MEMORY_LIMIT`, `ERR_INVALID_ARGUMENT`
 * @example
 * ```ts
 * const compiled = await compileGuest(await readFile('cipher.wasm'), { maxMemoryMb: 64 });
 * ```
 */
export async function compileGuest(
  bytes: Uint8Array,
  options: CompileOptions = {},
): Promise<CompiledModule> {
  byteArray(bytes, 'The wasm binary');
  if (!isComponent(bytes)) return compileModule(bytes, options);
  const maxPages = memoryCapPages(options.maxMemoryMb);
  const code = await compileComponent(bytes, maxPages);
  const [main] = Object.values(code.coreModules);
  // 'call' isolation of a component: a Worker gives each call a fresh instance (no snapshot yet).
  return {
    module: main!,
    info: undefined,
    maxPages,
    component: code,
    isolation: isolationMode(options.isolation),
    snapshotGlobals: [],
    pagesGlobal: undefined,
    shadowStack: undefined,
  };
}
