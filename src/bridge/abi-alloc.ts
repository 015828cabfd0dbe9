import { GuestErrorError, MemoryLimitError, ResultOutOfBoundsError } from '../errors.js';
import { ALLOC, FREE } from './conventions.js';
import type { GuestAccess } from './guest-access.js';

const DATA_PARAMS = ['i32', 'i32'] as const;
const IMAGE_PARAMS = ['i32', 'i32', 'i32', 'i32'] as const;
const ERROR_BIT = 1n << 63n;
const decoder = new TextDecoder();

/** One call through the allocator ABI. */
export interface AllocAbiCall {
  fn: string;
  payload: Uint8Array;
  image?: { width: number; height: number } | undefined;
  /** Where the output may be copied instead of a new buffer (see `CallOptions.resultBuffer`). */
  into?: Uint8Array | undefined;
}

/**
 * The allocator ABI (docs/ABI.md): the guest allocates the input buffer, the function returns its
 * output as a packed (pointer, length, error bit), and the host frees both. The host never writes
 * where the guest did not give it room.
 */
export function callAllocAbi(guest: GuestAccess, call: AllocAbiCall): Uint8Array {
  const fn = guest.resolve(call.fn, call.image ? IMAGE_PARAMS : DATA_PARAMS, 'i64');
  const input = copyIn(guest, call.payload);
  const args = [input, call.payload.length];
  if (call.image) args.push(call.image.width, call.image.height);
  const packed = guest.invoke(fn, call.fn, args) as bigint;
  free(guest, input, call.payload.length);
  return takeOutput(guest, packed, call.fn, call.into);
}

/** Allocates `bytes.length` bytes with the guest's allocator and copies `bytes` there. */
export function copyIn(guest: GuestAccess, bytes: Uint8Array): number {
  const alloc = guest.resolve(ALLOC, ['i32'], 'i32');
  const ptr = (guest.invoke(alloc, ALLOC, [bytes.length]) as number) >>> 0;
  if (ptr === 0 && bytes.length > 0) {
    throw new MemoryLimitError(
      `${ALLOC}(${bytes.length}) returned 0: the guest could not allocate room for the input. ` +
        `Raise maxMemoryMb or send less.`,
      { details: { bytes: bytes.length } },
    );
  }
  guest.memory.checkRange(ptr, bytes.length, ALLOC);
  guest.memory.write(ptr, bytes);
  return ptr;
}

/** Frees memory the guest's allocator gave out. */
export function free(guest: GuestAccess, ptr: number, length: number): void {
  const fn = guest.resolve(FREE, ['i32', 'i32'], 'void');
  guest.invoke(fn, FREE, [ptr, length]);
}

/** Splits a packed output into its parts. */
export function unpack(packed: bigint): { ptr: number; length: number; error: boolean } {
  return {
    error: (packed & ERROR_BIT) !== 0n,
    ptr: Number((packed >> 32n) & 0x7fffffffn),
    length: Number(packed & 0xffffffffn),
  };
}

/** Packs an output location as a guest would, for host functions returning strings or bytes. */
export function pack(ptr: number, length: number): bigint {
  return (BigInt(ptr) << 32n) | BigInt(length);
}

/**
 * Copies a packed output out of guest memory, frees it, and turns an error output into
 * `ERR_GUEST_ERROR` carrying the guest's message.
 */
export function takeOutput(
  guest: GuestAccess,
  packed: bigint,
  fn: string,
  into?: Uint8Array,
): Uint8Array {
  if (typeof packed !== 'bigint') {
    throw new ResultOutOfBoundsError(`${fn} did not return a packed i64 output.`);
  }
  const { ptr, length, error } = unpack(packed);
  const bytes = guest.memory.read(ptr, length, into);
  free(guest, ptr, length);
  if (error) {
    const message = decoder.decode(bytes);
    throw new GuestErrorError(`${fn} reported an error: ${message}`, {
      details: { fn, guestMessage: message },
    });
  }
  return bytes;
}
