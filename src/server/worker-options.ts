import type { HostFunctions } from '../bridge/host-functions.js';
import type { WorkerOptions } from '../supervisor/worker-types.js';
import type { ModuleSettings } from './sidecar.js';

/** The options of the worker serving a module: its bytes, its settings and its granted host functions. */
export function workerOptions(
  bytes: Buffer,
  settings: ModuleSettings,
  wasi: boolean,
  hostFunctions: HostFunctions | undefined,
): WorkerOptions {
  // maxImagePixels is checked from the header before a call reaches the worker, and again by
  // the worker's threads when they decode (so both agree on the module's limit).
  const { probe, wasi: wasiSettings, hostFunctions: _grants, ...rest } = settings;
  // Undefined values would override the worker's own defaults.
  const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  return {
    ...defined,
    wasmBinary: bytes,
    watch: false,
    // A WASI module gets WASI with nothing granted unless its sidecar grants something.
    ...(wasiSettings || wasi ? { wasi: wasiSettings ?? {} } : {}),
    ...(probe ? { probe: { fn: probe.fn, input: { data: probe.data ?? null } } } : {}),
    ...(hostFunctions ? { hostFunctions } : {}),
  };
}
