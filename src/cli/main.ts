#!/usr/bin/env node
/**
 * The `wasmtube` command: `call`, `serve`, `inspect`, `new`, and the admin commands against a
 * running gateway (`ls`, `reload`, `deploy`, `undeploy`, `logs`, `top`). Errors go to stderr as
 * `wasmtube: <CODE>: <message>`, with the exit codes of {@link EXIT}.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { WasmtubeError } from '../errors.js';
import { adminCommands } from './admin-commands.js';
import { callCommand } from './call.js';
import { componentizeCommand } from './componentize.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { inspectCommand } from './inspect.js';
import { hostsCommand } from './lattice-hosts.js';
import { newCommand } from './new.js';
import { serveCommand } from './serve.js';
import { usageMessage } from './usage-message.js';

const { version } = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { version: string };

const EXIT_CODES_HELP = `
Exit codes:
  ${EXIT.OK}    success; serve: stopped by SIGINT/SIGTERM after draining its calls
  ${EXIT.CALL_FAILED}    call: the call failed (trap, timeout, bad result, ...)
  ${EXIT.USAGE}    usage: unknown command or option, missing or invalid argument
  ${EXIT.INPUT}    a file is unusable: missing, unreadable, not a valid module, bad sidecar
  ${EXIT.SERVE_FAILED}    serve: could not start (no such folder, address in use); --nats: NATS unreachable;
       --url: no gateway answers
  ${EXIT.TARGET_NOT_EMPTY}    new: the target folder is not empty
  ${EXIT.INTERNAL}   internal error (a bug: please report it with the output)
  ${EXIT.FORCED}  serve: a second signal stopped it without draining
Errors are printed to stderr as "wasmtube: <CODE>: <message>"; codes are in docs/errors.md
and docs/server.md.`;

function program(): Command {
  const root = new Command('wasmtube')
    .description(
      'Run WebAssembly modules: call a function, inspect a module, serve a folder over HTTP, ' +
        'start a guest project, or manage a running gateway.',
    )
    .version(version, '-v, --version')
    .addHelpText('after', EXIT_CODES_HELP);
  for (const command of [
    callCommand(),
    serveCommand(),
    inspectCommand(),
    newCommand(),
    // ls, reload, deploy, undeploy, logs, top: deploy and undeploy also take --nats.
    ...adminCommands(),
    hostsCommand(),
    componentizeCommand(),
  ]) {
    root.addCommand(command);
  }
  // Usage errors are printed by main() in the documented form, not as commander's "error: ...".
  for (const command of [root, ...root.commands]) {
    command.exitOverride().configureOutput({ outputError: () => undefined });
  }
  return root;
}

async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return EXIT.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and the version are printed by commander; errors are ours to print.
      const shown = ['commander.helpDisplayed', 'commander.version'].includes(error.code);
      if (shown || error.exitCode === 0) return EXIT.OK;
      process.stderr.write(`wasmtube: ${usageMessage(error, argv)}\n`);
      return EXIT.USAGE;
    }
    const code = exitCodeFor(error);
    if (error instanceof WasmtubeError) {
      process.stderr.write(`wasmtube: ${error.code}: ${error.message}\n`);
    } else if (code === EXIT.SERVE_FAILED) {
      process.stderr.write(
        `wasmtube: ${(error as NodeJS.ErrnoException).code}: ${(error as Error).message}\n`,
      );
    } else {
      process.stderr.write(
        `wasmtube: internal error: ${(error as Error)?.stack ?? String(error)}\n`,
      );
    }
    return code;
  }
}

// The exit code is set, not forced: the process ends once everything is closed, so a leaked
// handle shows up as a process that does not exit.
process.exitCode = await main(process.argv);
