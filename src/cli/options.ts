import { InvalidArgumentError } from 'commander';

/** Commander parser for a non-negative integer option (ms, MiB, counts). */
export function nonNegativeInteger(value: string): number {
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError('Expected an integer ≥ 0.');
  return Number(value);
}

/** Commander parser for a positive integer option. */
export function positiveInteger(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError('Expected an integer ≥ 1.');
  return Number(value);
}

/** Commander parser for a TCP port (0 picks a free one). */
export function port(value: string): number {
  const n = nonNegativeInteger(value);
  if (n > 65535) throw new InvalidArgumentError('Expected a port number from 0 to 65535.');
  return n;
}

/** Commander parser for repeatable `KEY=VALUE` options, collected into a record. */
export function keyValue(
  value: string,
  previous: Record<string, string> = {},
): Record<string, string> {
  const at = value.indexOf('=');
  if (at < 1) throw new InvalidArgumentError('Expected KEY=VALUE.');
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}
