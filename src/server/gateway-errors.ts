// Only names the package exports publicly; imported from their modules to avoid an import cycle
// once src/index.ts re-exports the server.
import { defineError } from '../errors.js';

/**
 * Errors of the HTTP gateway and the CLI, with stable codes like the library's own (see
 * docs/server.md). They are `WasmtubeError`s: match on `error.code`.
 */
const gatewayCodes: string[] = [];

function defineGatewayError<C extends string>(code: C, name: string) {
  gatewayCodes.push(code);
  return defineError(code, name);
}

/** No module of that name is deployed (404). */
export const ModuleNotFoundError = defineGatewayError(
  'ERR_MODULE_NOT_FOUND',
  'ModuleNotFoundError',
);
/** A module name is not `[A-Za-z0-9][A-Za-z0-9_-]{0,63}` (400; a file with such a name is not deployed). */
export const ModuleNameInvalidError = defineGatewayError(
  'ERR_MODULE_NAME_INVALID',
  'ModuleNameInvalidError',
);
/** The module's file is there but it is not serving: deploying, failed to deploy, or being replaced (503). */
export const ModuleUnavailableError = defineGatewayError(
  'ERR_MODULE_UNAVAILABLE',
  'ModuleUnavailableError',
);
/** A module file, sidecar or path in a sidecar resolves (through a symlink or `..`) outside the deploy folder, or is not a regular file. */
export const UnsafePathError = defineGatewayError('ERR_UNSAFE_PATH', 'UnsafePathError');
/** A sidecar `<name>.json` is not valid JSON or has unknown or ill-typed settings. */
export const SidecarInvalidError = defineGatewayError('ERR_SIDECAR_INVALID', 'SidecarInvalidError');
/** The request has no valid bearer token (401). */
export const UnauthorizedError = defineGatewayError('ERR_UNAUTHORIZED', 'UnauthorizedError');
/** The request body is larger than the gateway's body limit (413). */
export const PayloadTooLargeError = defineGatewayError(
  'ERR_PAYLOAD_TOO_LARGE',
  'PayloadTooLargeError',
);
/** The request's Content-Type is not JSON, an image or `application/octet-stream` (415). */
export const UnsupportedMediaTypeError = defineGatewayError(
  'ERR_UNSUPPORTED_MEDIA_TYPE',
  'UnsupportedMediaTypeError',
);
/**
 * The request is malformed: not valid HTTP/1.1 (an unknown method, a bad header, no Host),
 * a path that is not valid percent-encoding, a JSON body that does not parse, a bad
 * Content-Length (400).
 */
export const BadRequestError = defineGatewayError('ERR_BAD_REQUEST', 'BadRequestError');
/** A path parameter (module or function name) is longer than the router accepts (414). */
export const UriTooLongError = defineGatewayError('ERR_URI_TOO_LONG', 'UriTooLongError');
/** The request line and headers together are larger than the server accepts, 16 KiB (431). */
export const HeadersTooLargeError = defineGatewayError(
  'ERR_HEADERS_TOO_LARGE',
  'HeadersTooLargeError',
);
/** The client did not send its request line and headers in time (408). */
export const RequestTimeoutError = defineGatewayError('ERR_REQUEST_TIMEOUT', 'RequestTimeoutError');
/** No route matches the method and path (404). */
export const RouteNotFoundError = defineGatewayError('ERR_ROUTE_NOT_FOUND', 'RouteNotFoundError');
/** The gateway is shutting down and takes no new requests (503). */
export const ShuttingDownError = defineGatewayError('ERR_SHUTTING_DOWN', 'ShuttingDownError');
/** The deploy folder does not exist or is not a directory. */
export const DeployFolderError = defineGatewayError('ERR_DEPLOY_FOLDER', 'DeployFolderError');
/**
 * An admin route that changes state was refused: the gateway has no token and listens beyond
 * loopback (403).
 */
export const ForbiddenError = defineGatewayError('ERR_FORBIDDEN', 'ForbiddenError');
/** An admin command could not reach the gateway at its `--url` (connection refused, no such host). */
export const GatewayUnreachableError = defineGatewayError(
  'ERR_GATEWAY_UNREACHABLE',
  'GatewayUnreachableError',
);
/** `serve`: the address cannot be listened on (taken, not allowed, no such host); says which flag to change. */
export const ListenFailedError = defineGatewayError('ERR_LISTEN_FAILED', 'ListenFailedError');
/** An input file named on the command line could not be read or parsed. */
export const InputFileError = defineGatewayError('ERR_INPUT_FILE', 'InputFileError');
/** `wasmtube new`: no template for that language and ABI (the message lists those there are). */
export const TemplateUnsupportedError = defineGatewayError(
  'ERR_TEMPLATE_UNSUPPORTED',
  'TemplateUnsupportedError',
);
/** `wasmtube new`: the target is a file, or a folder that is not empty. */
export const TargetNotEmptyError = defineGatewayError(
  'ERR_TARGET_NOT_EMPTY',
  'TargetNotEmptyError',
);
/** A failure the gateway did not expect (a bug); the message sent to clients is generic (500). */
export const InternalError = defineGatewayError('ERR_INTERNAL', 'InternalError');

/** Every code defined by the gateway and the CLI (the library's are `errorCodes()`). */
export function gatewayErrorCodes(): string[] {
  return [...gatewayCodes];
}
