import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { sha256 } from '../util/sha256.js';
import { UnauthorizedError } from './gateway-errors.js';

/** The gateway's bearer token check: `Authorization: Bearer <token>`. */
export class BearerAuth {
  readonly #tokenDigest: Buffer;

  constructor(token: string) {
    this.#tokenDigest = digest(token);
  }

  /** @throws `ERR_UNAUTHORIZED` for a missing or wrong token */
  authorize(request: FastifyRequest): void {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    // Compare digests: constant time, whatever the lengths.
    if (!match || !timingSafeEqual(digest(match[1]!), this.#tokenDigest)) {
      throw new UnauthorizedError(
        match
          ? 'The bearer token is not valid.'
          : 'This gateway needs a bearer token: send Authorization: Bearer <token>.',
      );
    }
  }
}

function digest(text: string): Buffer {
  return Buffer.from(sha256(text), 'hex');
}
