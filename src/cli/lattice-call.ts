import { Lattice } from '../cluster/lattice.js';
import type { CallInput, ResultKind } from '../types.js';
import { latticeOptions, type LatticeFlags } from './lattice-flags.js';

/** `call --nats` flags beyond the connection's. */
export interface LatticeCallFlags extends LatticeFlags {
  timeoutMs: number;
  retry?: number;
}

/**
 * `wasmtube call <module> <fn> --nats <urls>`: one call on a host of the lattice that serves
 * `module`. Resolves with the result; `call` prints it as for a local call.
 */
export async function callInLattice(
  module: string,
  fn: string,
  input: CallInput,
  returns: ResultKind,
  flags: LatticeCallFlags,
): Promise<unknown> {
  const lattice = await Lattice.connect(latticeOptions(flags));
  try {
    return await lattice.callFunction(module, fn, input, {
      returns,
      timeoutMs: flags.timeoutMs,
      ...(flags.retry !== undefined ? { retry: flags.retry } : {}),
    });
  } finally {
    await lattice.close();
  }
}
