import type { CommanderError } from 'commander';
import { InvalidArgumentError } from '../errors.js';

/**
 * A commander usage error as the CLI prints every error: `<CODE>: <message>` (after the
 * `wasmtube: ` prefix), with `ERR_INVALID_ARGUMENT` and a pointer to the command's help.
 */
export function usageMessage(error: CommanderError, argv: readonly string[]): string {
  // Commander's messages start with "error: "; the code takes its place.
  // A bare `wasmtube` has printed the help (to stderr) and ends with "(outputHelp)".
  const message =
    error.code === 'commander.help'
      ? 'a command is needed (the commands are listed above)'
      : error.message.replace(/^error:\s*/i, '');
  const command = argv.slice(2).find((arg) => !arg.startsWith('-'));
  const known = error.code !== 'commander.unknownCommand' && command !== undefined;
  const help = known ? `wasmtube ${command} --help` : 'wasmtube --help';
  const end = /[.!?]$/.test(message) ? '' : '.';
  return `${InvalidArgumentError.code}: ${message}${end} See ${help}.`;
}
