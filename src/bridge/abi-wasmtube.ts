import { ResultOutOfBoundsError } from '../errors.js';
import type { GuestAccess } from './guest-access.js';
import type { Placement } from './guest-memory.js';

const DATA_PARAMS = ['i32', 'i32'] as const;
const IMAGE_PARAMS = ['i32', 'i32', 'i32', 'i32'] as const;

/** One call through the Wasmtube ABI. */
export interface WasmtubeAbiCall {
  fn: string;
  payload: Uint8Array;
  /** Present for image functions: `fn(index, length, width, height)`. */
  image?: { width: number; height: number } | undefined;
  placement: Placement;
  /** Bytes reserved past the payload in a host region, for results longer than their input. */
  headroom: number;
  /** Where the result may be copied instead of a new buffer (see `CallOptions.resultBuffer`). */
  into?: Uint8Array | undefined;
}

/**
 * The Wasmtube ABI, byte-compatible with guests written for the Elixir library: the payload is
 * written at an index, the guest is called as `fn(index, length)` (or with `width, height` for
 * images), writes its result at the same index and returns the result's length.
 */
export function callWasmtubeAbi(guest: GuestAccess, call: WasmtubeAbiCall): Uint8Array {
  const params = call.image ? IMAGE_PARAMS : DATA_PARAMS;
  const fn = guest.resolve(call.fn, params, 'i32');
  const memory = guest.memory;
  const reservation = memory.reserve(call.placement, call.payload.length, call.headroom);
  memory.write(reservation.offset, call.payload);
  const args = [reservation.offset, call.payload.length];
  if (call.image) args.push(call.image.width, call.image.height);
  const pagesBefore = memory.pages;
  const length = guest.invoke(fn, call.fn, args) as number;
  // A result longer than the host region is only harmless while nothing sits above the region;
  // once the guest has grown memory during the call, its new heap pages were overwritten.
  const insideMemory = reservation.offset + length <= memory.byteLength;
  if (call.placement.kind === 'host-region' && length > reservation.capacity && insideMemory) {
    const grew = memory.pages > pagesBefore;
    if (grew) guest.reset();
    throw new ResultOutOfBoundsError(
      `${call.fn} returned a ${length}-byte result, but only ${reservation.capacity} bytes were ` +
        `reserved at the index for it${grew ? ', so its instance was reset' : ''}. Raise the ` +
        `resultHeadroomBytes option.`,
      { details: { length, capacity: reservation.capacity, reset: grew } },
    );
  }
  return memory.readResult(reservation, length, call.fn, call.into);
}
