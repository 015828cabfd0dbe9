/** Describing what a .wasm file holds, a core module or a component, for the gateway and the CLI. */
import { compileGuest } from '../component/compile-guest.js';
import { isComponent } from '../component/component-binary.js';
import { formatWitFunction } from '../component/wit-types.js';
import { sha256 } from '../util/sha256.js';
import { describeModule, type ModuleDescription } from './module-description.js';

/**
 * Describes a core module (as {@link describeModule}) or a component: its WIT functions with
 * their types (convention `component`), the interfaces it imports, and its world. A component
 * is transpiled to read it, which also readies it for a Worker of the same content.
 * @throws `ERR_WASM_COMPILE` for a component that cannot be read
 */
export async function describeGuest(bytes: Uint8Array): Promise<ModuleDescription> {
  if (!isComponent(bytes)) return describeModule(bytes);
  const { component } = await compileGuest(bytes);
  const { world } = component!;
  return {
    sizeBytes: bytes.length,
    sha256: sha256(bytes),
    functions: world.functions.map((fn) => ({
      name: fn.name,
      type: formatWitFunction(fn),
      convention: 'component',
    })),
    otherExports: [],
    imports: world.imports.map((name) => ({ module: name, name: '*', kind: 'interface' })),
    memory: undefined,
    wasi: world.imports.some((name) => name.startsWith('wasi:')),
    signaturesKnown: true,
    component: { wit: world.wit },
  };
}
