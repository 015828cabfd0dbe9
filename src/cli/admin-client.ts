import { WasmtubeError } from '../errors.js';
import { GatewayUnreachableError } from '../server/gateway-errors.js';

/** Where a running gateway is, for the admin commands (`--url`, `WASMTUBE_TOKEN`). */
export interface AdminTarget {
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** Bearer token, when the gateway has one. */
  token?: string | undefined;
}

/** The default `--url`. */
export const DEFAULT_URL = 'http://127.0.0.1:3000';

/** The target of an admin command from its flags and the environment. */
export function adminTarget(flags: { url: string }): AdminTarget {
  const token = process.env.WASMTUBE_TOKEN;
  return { url: flags.url.replace(/\/+$/, ''), token: token === '' ? undefined : token };
}

/**
 * Sends one request to the gateway's admin API and returns its JSON answer.
 * @throws the gateway's error (its `code` and message) for an error answer;
 *   `ERR_GATEWAY_UNREACHABLE` when nothing answers at the URL
 */
export async function adminRequest<T>(
  target: AdminTarget,
  method: string,
  path: string,
  body?: { bytes: Uint8Array; type: string },
): Promise<T> {
  const response = await send(target, path, {
    method,
    headers: { ...(body && { 'content-type': body.type }) },
    ...(body && { body: new Uint8Array(body.bytes) }),
  });
  const text = await response.text();
  const json = parseJson(text);
  if (!response.ok) throw answerError(response.status, json, text);
  return json as T;
}

/**
 * Follows `GET /events` (filtered by `query`) and calls `onEvent` with each event until the
 * stream ends or `signal` aborts. Resolves when the stream ends.
 */
export async function followEvents(
  target: AdminTarget,
  query: Record<string, string | undefined>,
  onEvent: (event: { type: string; [key: string]: unknown }) => void,
  signal?: AbortSignal,
): Promise<void> {
  const search = new URLSearchParams(
    Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const response = await send(target, `/events?${search}`, { signal });
  if (!response.ok) {
    const text = await response.text();
    throw answerError(response.status, parseJson(text), text);
  }
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data: '))
          .map((line) => line.slice(6))
          .join('\n');
        if (data) onEvent(JSON.parse(data) as { type: string });
      }
    }
  } catch (error) {
    if (signal?.aborted) return;
    throw error;
  }
}

async function send(target: AdminTarget, path: string, init: RequestInit): Promise<Response> {
  const headers = new Headers(init.headers);
  if (target.token) headers.set('authorization', `Bearer ${target.token}`);
  try {
    return await fetch(`${target.url}${path}`, { ...init, headers });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new GatewayUnreachableError(
      `No wasmtube gateway answers at ${target.url} (${cause?.code ?? cause?.message ?? (error as Error).message}). ` +
        'Start one with wasmtube serve, or pass --url <url> of the one running.',
      { cause: error, details: { url: target.url } },
    );
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // not JSON: the status and the text say what happened
  }
}

/** The gateway's `{ error: { code, message } }` as an error with that code. */
function answerError(status: number, json: unknown, text: string): WasmtubeError {
  const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (typeof error?.code === 'string' && typeof error.message === 'string') {
    const hint =
      error.code === 'ERR_UNAUTHORIZED' ? " Set WASMTUBE_TOKEN to the gateway's token." : '';
    return new WasmtubeError(error.code, `${error.message}${hint}`, { details: { status } });
  }
  return new WasmtubeError(
    'ERR_INTERNAL',
    `The gateway answered ${status} with something that is not its error body: ${text.slice(0, 200)}`,
    { details: { status } },
  );
}
