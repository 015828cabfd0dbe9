import { NameTakenError } from '../errors.js';

/** Workers by name, like Elixir's registered GenServer names. */
const byName = new Map<string, object>();

/** Reserves `name` for `owner`; throws `ERR_NAME_TAKEN` if another owner has it. */
export function register(name: string, owner: object): void {
  const current = byName.get(name);
  if (current !== undefined && current !== owner) {
    throw new NameTakenError(
      `A running worker is already named "${name}". Stop it first, or pick another name.`,
      { details: { name } },
    );
  }
  byName.set(name, owner);
}

/** Frees `name` if `owner` holds it. */
export function unregister(name: string, owner: object): void {
  if (byName.get(name) === owner) byName.delete(name);
}

/** The owner registered under `name`, if any. */
export function lookup(name: string): object | undefined {
  return byName.get(name);
}
