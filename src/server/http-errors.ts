import { STATUS_CODES } from 'node:http';
import { AbortError, WasmtubeError } from '../errors.js';
import {
  BadRequestError,
  HeadersTooLargeError,
  InternalError,
  PayloadTooLargeError,
  RequestTimeoutError,
  UnsupportedMediaTypeError,
  UriTooLongError,
} from './gateway-errors.js';

/**
 * The one table from error code to HTTP status. A code not listed is a 500. The guiding rule:
 * 4xx when the request is at fault, 500 when the guest failed, 502 when the guest answered
 * something that is not a result, 503 when the module is not there to serve right now, 504 when
 * it took too long.
 */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  // The request names something that does not exist.
  ERR_MODULE_NOT_FOUND: 404,
  ERR_EXPORT_NOT_FOUND: 404,
  ERR_ROUTE_NOT_FOUND: 404,
  // The request is wrong.
  ERR_BAD_REQUEST: 400,
  ERR_MODULE_NAME_INVALID: 400,
  ERR_INVALID_ARGUMENT: 400,
  ERR_INPUT_ENCODE: 400,
  ERR_IMAGE_DECODE: 400,
  ERR_IMAGE_SIZE_MISMATCH: 400,
  ERR_EXPORT_SIGNATURE: 400,
  ERR_INPUT_OUT_OF_BOUNDS: 400,
  ERR_UNAUTHORIZED: 401,
  ERR_FORBIDDEN: 403,
  // An upload to the admin deploy route that is not a module, or a sidecar that is not valid.
  ERR_WASM_COMPILE: 400,
  ERR_SIDECAR_INVALID: 400,
  // An uploaded module that compiled but did not deploy (the version serving keeps serving).
  ERR_WASM_INSTANTIATE: 422,
  ERR_MEMORY_NOT_EXPORTED: 422,
  ERR_PROBE_FAILED: 422,
  ERR_START_TIMEOUT: 422,
  ERR_RELOAD_REJECTED: 409,
  ERR_REQUEST_TIMEOUT: 408,
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_IMAGE_TOO_LARGE: 413,
  ERR_URI_TOO_LONG: 414,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_HEADERS_TOO_LARGE: 431,
  ERR_QUEUE_FULL: 429,
  // The client went away before its answer (nginx's 499); nobody sees it but the log.
  ERR_ABORTED: 499,
  // The guest failed while running the call.
  ERR_GUEST_TRAP: 500,
  ERR_GUEST_EXIT: 500,
  ERR_GUEST_ERROR: 500,
  ERR_HOST_FUNCTION: 500,
  ERR_MEMORY_LIMIT: 500,
  ERR_WORKER_EXITED: 500,
  ERR_IMAGE_ENCODE: 500,
  ERR_INTERNAL: 500,
  // The guest returned something that is not a valid result: a bad gateway answer.
  ERR_RESULT_OUT_OF_BOUNDS: 502,
  ERR_RESULT_DECODE: 502,
  // Nothing can serve the module right now.
  ERR_MODULE_UNAVAILABLE: 503,
  ERR_WORKER_STOPPED: 503,
  ERR_RESTART_INTENSITY: 503,
  ERR_SHUTTING_DOWN: 503,
  // The lattice (serve --nats): NATS is down, or the host running the call was lost.
  ERR_LATTICE_UNAVAILABLE: 503,
  ERR_HOST_LOST: 502,
  ERR_JOB_NOT_FOUND: 404,
  // Too slow.
  ERR_CALL_TIMEOUT: 504,
  ERR_QUEUE_TIMEOUT: 504,
};

/** The longest module or function name the router takes, in characters; longer: 414. */
export const MAX_PARAM_LENGTH = 1024;

/** Statuses after which a client may retry, and the `Retry-After` (seconds) the gateway sends. */
const RETRY_AFTER_S: Readonly<Record<number, number>> = { 429: 1, 503: 1 };

/** An error as the gateway answers it. */
export interface HttpError {
  status: number;
  code: string;
  message: string;
  /** Seconds for a `Retry-After` header, for 429 and 503. */
  retryAfterS: number | undefined;
  /** The error to log, for 5xx answers. */
  error: unknown;
}

/** The HTTP status for an error code: {@link STATUS_BY_CODE}, else 500. */
export function statusForCode(code: string): number {
  return STATUS_BY_CODE[code] ?? 500;
}

/**
 * Turns anything thrown while serving a request into the gateway's answer. Fastify's own request
 * errors (body too large, bad JSON, unsupported media type) become the gateway's codes; any other
 * non-wasmtube error is an `ERR_INTERNAL` whose message is not shown to the client.
 */
export function toHttpError(thrown: unknown): HttpError {
  const error = fromFastify(thrown);
  if (error instanceof WasmtubeError) {
    const status = statusForCode(error.code);
    return {
      status,
      code: error.code,
      message: error.message,
      retryAfterS: RETRY_AFTER_S[status],
      error,
    };
  }
  return {
    status: 500,
    code: InternalError.code,
    message: 'The gateway failed unexpectedly; the error is in its log.',
    retryAfterS: undefined,
    error: thrown,
  };
}

/** The JSON body of every error answer: `{ "error": { "code", "message" } }`. */
export function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/**
 * The gateway error for a request Node's HTTP parser refused before fastify saw it (the
 * server's `clientError`): headers too large (431), headers too slow (408), anything else not
 * valid HTTP/1.1 (400). A connection the client reset is an abort.
 */
export function fromClientError(error: { code?: string; message?: string }): WasmtubeError {
  const options = { cause: error };
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new HeadersTooLargeError(
        'The request line and headers are larger than the gateway accepts (16 KiB). Send ' +
          'fewer or shorter headers, and the input in the body rather than the URL.',
        options,
      );
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new RequestTimeoutError(
        'The request line and headers did not arrive in time; send the whole request at once.',
        options,
      );
    case 'ECONNRESET':
    case 'EPIPE':
    // The connection ended in the middle of a request (e.g. during its body).
    case 'HPE_INVALID_EOF_STATE':
      return new AbortError('The client closed the connection.', options);
    case 'HPE_INVALID_METHOD':
      return new BadRequestError(
        'The request method is not an HTTP method. The gateway takes GET and POST (see ' +
          'GET /functions).',
        options,
      );
    default:
      return new BadRequestError(
        `The request is not valid HTTP/1.1 (${error.code ?? 'parse error'}: ` +
          `${error.message ?? 'malformed'}). Check the request line, headers and body framing.`,
        options,
      );
  }
}

/**
 * A complete HTTP/1.1 error answer for a raw socket (no fastify reply exists yet): the gateway's
 * JSON body, `Connection: close`.
 */
export function rawErrorResponse(error: WasmtubeError): string {
  const status = statusForCode(error.code);
  const body = errorBody(error.code, error.message);
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    `Content-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    `Connection: close\r\n\r\n${body}`
  );
}

/** Fastify's `FST_ERR_*` request errors, as gateway errors (the original is the `cause`). */
function fromFastify(thrown: unknown): unknown {
  const error = thrown as { code?: unknown; statusCode?: unknown; message?: string };
  // The client went away while its body was being read (fastify gives the stream's error a 400).
  if (error?.code === 'ECONNRESET' || error?.code === 'ECONNABORTED') {
    return new AbortError('The client closed the connection before its body was read.', {
      cause: thrown,
    });
  }
  if (typeof error?.code !== 'string' || !error.code.startsWith('FST_')) {
    // Body parsing failures of content-type parsers (e.g. JSON syntax) carry only a 400 status.
    if (thrown instanceof SyntaxError && error.statusCode === 400) {
      return new BadRequestError(`The request body is not valid JSON: ${thrown.message}`, {
        cause: thrown,
      });
    }
    return thrown;
  }
  const options = { cause: thrown };
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLargeError(
        'The request body is larger than the gateway accepts (its bodyLimit). Send a smaller ' +
          'payload or start the gateway with a larger --body-limit-mb.',
        options,
      );
    case 'FST_ERR_BAD_URL':
      return new BadRequestError(
        'The path is not valid percent-encoding (e.g. "%zz"). Encode module and function ' +
          'names with encodeURIComponent.',
        options,
      );
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new UriTooLongError(
        `A module or function name in the path is longer than ${MAX_PARAM_LENGTH} ` +
          'characters; no module or export has such a name. GET /functions lists them.',
        options,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeError(
        'Send application/json, an image (image/png, image/jpeg, image/webp, ...) or ' +
          'application/octet-stream.',
        options,
      );
    default:
      if (error.statusCode === 400 || error.statusCode === 413 || error.statusCode === 415) {
        return error.statusCode === 413
          ? new PayloadTooLargeError(error.message ?? 'Payload too large.', options)
          : error.statusCode === 415
            ? new UnsupportedMediaTypeError(error.message ?? 'Unsupported media type.', options)
            : new BadRequestError(error.message ?? 'Bad request.', options);
      }
      return thrown;
  }
}
