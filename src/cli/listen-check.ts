import { createServer } from 'node:net';
import { ListenFailedError } from '../server/gateway-errors.js';

/**
 * Listens on `host:port` for a moment and lets go, so that `serve` fails on a taken port before
 * it deploys a single module. Port 0 (any free port) cannot be taken and is not checked.
 * @throws `ERR_LISTEN_FAILED` naming the flag to change
 */
export async function checkListenAddress(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, resolve);
    });
  } catch (error) {
    throw listenError(error, host, port);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** A `listen` failure (`EADDRINUSE`, `EACCES`, ...) in the words of the `serve` flags. */
export function listenError(error: unknown, host: string, port: number): unknown {
  const errno = (error as NodeJS.ErrnoException)?.code;
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const options = { cause: error, details: { host, port, errno } };
  switch (errno) {
    case 'EADDRINUSE':
      return new ListenFailedError(
        `${address} is already in use (another wasmtube serve, or another server). Pass ` +
          `--port <n> for another port (--port 0 picks a free one), or stop the process ` +
          `listening there.`,
        options,
      );
    case 'EACCES':
      return new ListenFailedError(
        `Listening on ${address} is not allowed (ports below 1024 need privileges). Pass ` +
          `--port <n> with a port from 1024 to 65535.`,
        options,
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ListenFailedError(
        `--host ${host} is not an address of this machine. Pass --host 127.0.0.1 (this ` +
          `machine only) or --host 0.0.0.0 (every interface).`,
        options,
      );
    default:
      return error;
  }
}
