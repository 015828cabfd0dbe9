import { isUtf8 } from 'node:buffer';
import { errorCodes, type FastifyInstance } from 'fastify';

/**
 * A JSON request body of a function call, checked to be JSON and kept as the bytes it came in:
 * the worker would encode the parsed value back to the same JSON text, so the call's input is
 * these bytes (`{ bytes }` with `returns: 'json'`, which is what a Worker sends for `{ data }`).
 * That saves the main thread, which every request goes through, a `JSON.stringify` and a UTF-8
 * encoding per call.
 */
export class JsonBody {
  /** UTF-8 JSON text, without a byte order mark. */
  readonly bytes: Buffer;

  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }
}

const BOM = 0xfeff;

/**
 * Makes `scope` (the function-call route's plugin scope only: other routes keep fastify's parsed
 * bodies) read `application/json` bodies as {@link JsonBody}. Refuses what fastify's own parser
 * refuses, with its errors (an empty body, invalid JSON), so the answers stay the same; the value
 * parsed to check the text is dropped, so its prototype-poisoning keys reach no object.
 */
export function readJsonBodiesAsBytes(scope: FastifyInstance): void {
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, raw, done) => {
    const body = raw as Buffer;
    if (body.length === 0) return done(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), undefined);
    let text = body.toString('utf8');
    // A leading byte order mark is allowed, as fastify's parser allows it; the guest gets none.
    const bom = text.charCodeAt(0) === BOM;
    if (bom) text = text.slice(1);
    try {
      JSON.parse(text);
    } catch {
      return done(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), undefined);
    }
    // Malformed UTF-8 was read as U+FFFD, as before: the guest gets that text, valid UTF-8.
    const bytes = !isUtf8(body) ? Buffer.from(text) : bom ? body.subarray(3) : body;
    done(null, new JsonBody(bytes));
  });
}
