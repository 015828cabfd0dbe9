/**
 * The typed error for a guest call that trapped or exited, shared by core modules and components:
 * a host function's failure, a WASI exit, a trap near the memory cap (most likely out of memory)
 * or a plain trap. Only the wording differs between the two kinds of guest.
 */
import { GuestExitError, GuestTrapError, MemoryLimitError, type WasmtubeError } from '../errors.js';
import { HostCallFailure, hostFunctionError } from './host-functions.js';
import { GuestExit } from './wasi.js';

/** What was running when it trapped, and how far its memory had grown. */
export interface TrapContext {
  /** The export that was called. */
  name: string;
  /** A core module (`proc_exit`, its instance reset or restored) or a component (replaced). */
  guest: 'module' | 'component';
  pagesBefore: number;
  pagesAtTrap: number;
  maxPages: number | undefined;
  /** A core module's instance was restored to its ready state (isolation 'call'), not reset. */
  restored?: boolean;
}

export function trapError(error: unknown, context: TrapContext): WasmtubeError {
  const { name, guest, pagesBefore, pagesAtTrap, maxPages } = context;
  const component = guest === 'component';
  if (error instanceof HostCallFailure) return hostFunctionError(name, error);
  if (error instanceof GuestExit) {
    const how = component
      ? `the component with wasi:cli/exit (${error.exitCode})`
      : `the guest with proc_exit(${error.exitCode})`;
    return new GuestExitError(
      `"${name}" ended ${how}. Its instance was ${component ? 'replaced' : 'reset'}, so its ` +
        `state starts over.`,
      { cause: error, details: { name, exitCode: error.exitCode } },
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  const what = component ? 'replaced' : context.restored ? 'restored to its ready state' : 'reset';
  // A guest cannot tell us why it trapped. When memory grew during the call to at least half the
  // cap, an allocation failing at the cap is by far the likeliest cause (Rust aborts on OOM).
  if (maxPages !== undefined && pagesAtTrap > pagesBefore && pagesAtTrap * 2 >= maxPages) {
    return new MemoryLimitError(
      `"${name}" trapped (${reason}) after growing its memory to ${pagesAtTrap} of ${maxPages} ` +
        `allowed pages: it most likely ran out of memory. Raise maxMemoryMb if ` +
        `${component ? 'it' : 'the guest'} needs more. Its instance was ${what}.`,
      { cause: error, details: { name, pages: pagesAtTrap, maxPages } },
    );
  }
  return new GuestTrapError(
    component
      ? `"${name}" trapped: ${reason}. A trapped component cannot be entered again: its ` +
          `instance was replaced, so its state starts over.`
      : `"${name}" trapped: ${reason}. The guest's instance was ${what}, so its state starts over.`,
    { cause: error, details: { name, reason } },
  );
}
