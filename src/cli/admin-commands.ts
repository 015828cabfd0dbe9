import { Command, Option } from 'commander';
import type { AdminAnswer } from '../server/admin-routes.js';
import type { GatewayEvent, ModuleLive } from '../server/event-hub.js';
import { LOG_LEVELS, type LogEntry } from '../server/log-book.js';
import { adminRequest, adminTarget, DEFAULT_URL, followEvents } from './admin-client.js';
import { deployOverHttp, undeployOverHttp } from './admin-deploy.js';
import { latticeDeploy, latticeUndeploy, type LatticeDeployFlags } from './lattice-deploy.js';
import { addLatticeFlags } from './lattice-flags.js';
import { moduleTable } from './module-table.js';
import { positiveInteger } from './options.js';
import { formatLogLine } from './pretty-log.js';

interface UrlFlags {
  url: string;
}

const TOKEN_HELP = `
The token, when the gateway has one, is read from WASMTUBE_TOKEN.`;

/** A command talking to a running gateway: `--url`, and the token from the environment. */
function adminCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .addOption(new Option('--url <url>', 'the gateway').default(DEFAULT_URL).env('WASMTUBE_URL'))
    .addHelpText('after', TOKEN_HELP);
}

/** The modules of the snapshot, as live figures. */
function liveModules(snapshot: GatewayEvent): ModuleLive[] {
  return snapshot.type === 'snapshot' ? snapshot.modules.map((m) => m.live) : [];
}

/** `wasmtube ls`: the modules of a running gateway. */
export function lsCommand(): Command {
  return adminCommand('ls', 'List the modules of a running gateway: state, version, threads, load.')
    .option('--json', 'print the gateway status as JSON')
    .action(async (flags: UrlFlags & { json?: boolean }) => {
      const snapshot = await adminRequest<GatewayEvent>(adminTarget(flags), 'GET', '/admin/status');
      process.stdout.write(
        flags.json
          ? `${JSON.stringify(snapshot, null, 2)}\n`
          : `${moduleTable(liveModules(snapshot))}\n`,
      );
    });
}

/** `wasmtube reload <module>`: fresh threads, next version, old ones drain. */
export function reloadCommand(): Command {
  return adminCommand(
    'reload',
    'Restart a module of a running gateway on fresh threads (the next version) while the old ones drain.',
  )
    .argument('<module>', 'the module')
    .action(async (module: string, flags: UrlFlags) => {
      const answer = await adminRequest<AdminAnswer>(
        adminTarget(flags),
        'POST',
        `/admin/modules/${encodeURIComponent(module)}/reload`,
      );
      process.stdout.write(`reloaded ${module}: now v${answer.module?.version}\n`);
    });
}

/**
 * `wasmtube deploy <file.wasm>`: to the running gateway at `--url` (uploaded, written into its
 * folder as a file copy would be), or with `--nats` to every host of a lattice.
 */
export function deployCommand(): Command {
  const command = adminCommand(
    'deploy',
    'Deploy a .wasm to a running gateway (--url: written into its folder, as a file copy would ' +
      'be), or with --nats to every host of a lattice, and wait until it serves.',
  )
    .argument('<file>', 'the .wasm module')
    .option('--name <module>', 'the module name (default: the file name without .wasm)')
    .option('--sidecar <file>', 'settings in the sidecar format (default: <file>.json beside it)')
    .option('--timeout-ms <ms>', 'with --nats: how long hosts may take', positiveInteger)
    .action(async (file: string, flags: UrlFlags & LatticeDeployFlags) => {
      if (flags.nats !== undefined) return latticeDeploy(file, flags);
      const answer = await deployOverHttp(adminTarget(flags), file, flags);
      const m = answer.module!;
      process.stdout.write(`deployed ${m.name} v${m.version} (sha256 ${m.hash?.slice(0, 12)})\n`);
    });
  return addLatticeFlags(command);
}

/** `wasmtube undeploy <module>`: from the running gateway at `--url`, or with `--nats` a lattice. */
export function undeployCommand(): Command {
  const command = adminCommand(
    'undeploy',
    'Undeploy a module of a running gateway (its file is removed), or with --nats from every ' +
      'host of a lattice; calls in flight finish first.',
  )
    .argument('<module>', 'the module')
    .action(async (module: string, flags: UrlFlags & LatticeDeployFlags) => {
      if (flags.nats !== undefined) return latticeUndeploy(module, flags);
      const answer = await undeployOverHttp(adminTarget(flags), module);
      process.stdout.write(
        `undeployed ${module}${answer.module ? ` (was v${answer.module.version})` : ''}\n`,
      );
    });
  return addLatticeFlags(command);
}

/** `wasmtube logs [-f] [--module m]`: the gateway's recent log lines, and new ones with -f. */
export function logsCommand(): Command {
  return adminCommand('logs', "Print a running gateway's recent log lines; -f follows new ones.")
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .option('--module <module>', 'only lines about this module')
    .addOption(new Option('--level <level>', 'lowest level shown').choices(Object.keys(LOG_LEVELS)))
    .option('-n, --lines <n>', 'how many recent lines', positiveInteger, 100)
    .option('--json', 'print the lines as JSON (pino), one per line')
    .action(
      async (
        flags: UrlFlags & {
          follow?: boolean;
          module?: string;
          level?: string;
          lines: number;
          json?: boolean;
        },
      ) => {
        const target = adminTarget(flags);
        const print = (entry: LogEntry) =>
          process.stdout.write(`${flags.json ? JSON.stringify(entry) : formatLogLine(entry)}\n`);
        const query = new URLSearchParams({ limit: String(flags.lines) });
        if (flags.module) query.set('module', flags.module);
        if (flags.level) query.set('level', flags.level);
        const { lines } = await adminRequest<{ lines: LogEntry[] }>(
          target,
          'GET',
          `/admin/logs?${query}`,
        );
        lines.forEach(print);
        if (!flags.follow) return;
        const minLevel = flags.level ? LOG_LEVELS[flags.level]! : 0;
        await untilInterrupted((signal) =>
          followEvents(
            target,
            { types: 'log', module: flags.module },
            (event) => {
              if ((event.level as number) >= minLevel) print(event as unknown as LogEntry);
            },
            signal,
          ),
        );
      },
    );
}

/** `wasmtube top`: a refreshing view of the modules, from the gateway's event stream. */
export function topCommand(): Command {
  return adminCommand(
    'top',
    'A live view of a running gateway: the dashboard in the terminal.',
  ).action(async (flags: UrlFlags) => {
    const target = adminTarget(flags);
    const tty = process.stdout.isTTY;
    const recent: string[] = [];
    let modules: ModuleLive[] = [];
    const draw = () => {
      const frame = [
        `wasmtube top — ${target.url} — ${new Date().toLocaleTimeString()}  (Ctrl-C to quit)`,
        '',
        moduleTable(modules),
        '',
        'recent:',
        ...(recent.length ? recent : ['  (nothing yet)']),
      ].join('\n');
      // A terminal is redrawn in place; a pipe gets one frame after the other.
      process.stdout.write(tty ? `\x1b[H\x1b[2J${frame}\n` : `${frame}\n\n`);
    };
    await untilInterrupted((signal) =>
      followEvents(
        target,
        {
          types:
            'snapshot,stats,deploy,reload,reload-rejected,rollback,undeploy,deploy-failed,module-failed,call-error',
        },
        (event) => {
          if (event.type === 'snapshot') modules = liveModules(event as GatewayEvent);
          else if (event.type === 'stats') modules = event.modules as ModuleLive[];
          else {
            const what =
              event.type === 'call-error'
                ? `${String(event.code)} in ${String(event.fn)}`
                : event.type;
            recent.unshift(
              `  ${new Date().toLocaleTimeString()}  ${String(event.module)}  ${what}${'version' in event ? ` v${String(event.version)}` : ''}`,
            );
            recent.length = Math.min(recent.length, 8);
          }
          if (event.type !== 'call-error') draw();
        },
        signal,
      ),
    );
  });
}

/** Runs `follow` until SIGINT/SIGTERM (then resolves) or until the stream ends. */
async function untilInterrupted(follow: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await follow(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** Every admin command, for the command list. */
export function adminCommands(): Command[] {
  return [
    lsCommand(),
    reloadCommand(),
    deployCommand(),
    undeployCommand(),
    logsCommand(),
    topCommand(),
  ];
}
