import { headers as natsHeaders, type MsgHdrs } from '@nats-io/nats-core';
import { pack, unpack } from 'msgpackr';
import {
  InputEncodeError,
  InvalidArgumentError,
  ResultDecodeError,
  deserializeError,
  serializeError,
  type SerializedError,
  type WasmtubeError,
} from '../errors.js';
import type { CallInput, ResultKind, RgbImage } from '../types.js';
import type { PayloadStore } from './payload-store.js';

/**
 * The wire form of lattice calls: a call's input and a host's answers as NATS headers plus a
 * body. Large bodies go through the {@link PayloadStore} (header `wt-ref`), so a 6 MB image
 * works on a server with the default 1 MiB `max_payload`.
 */
export const H = {
  fn: 'wt-fn',
  input: 'wt-input',
  width: 'wt-width',
  height: 'wt-height',
  returns: 'wt-returns',
  timeoutMs: 'wt-timeout-ms',
  queueTimeoutMs: 'wt-queue-timeout-ms',
  /** Epoch ms after which a host must not start the call: its caller has moved on. */
  ackBy: 'wt-ack-by',
  /** The caller's acknowledgement timeout, in ms (the host acknowledges well within it). */
  ackMs: 'wt-ack-ms',
  ref: 'wt-ref',
  kind: 'wt-kind',
  host: 'wt-host',
  version: 'wt-version',
  hash: 'wt-hash',
} as const;

/** What a host's answer to a call is. */
export type AnswerKind = 'ack' | 'result' | 'error';

type InputKind = 'json' | 'msgpack' | 'bytes' | 'image';

/** A body and its headers, ready to publish. */
export interface WireMessage {
  headers: MsgHdrs;
  body: Uint8Array;
}

/** Headers and body of a call (the subject says the module). */
export async function encodeCall(
  fn: string,
  input: CallInput,
  options: { returns?: ResultKind; timeoutMs?: number; queueTimeoutMs?: number },
  payloads: PayloadStore,
): Promise<WireMessage> {
  const headers = natsHeaders();
  headers.set(H.fn, fn);
  let kind: InputKind;
  let body: Uint8Array;
  if (typeof input !== 'object' || input === null) {
    throw new InvalidArgumentError('input must be { data }, { bytes } or { image }.');
  }
  if ('data' in input) {
    kind = input.codec === 'msgpack' ? 'msgpack' : 'json';
    body = kind === 'msgpack' ? pack(input.data) : encodeJson(input.data);
  } else if ('bytes' in input && input.bytes instanceof Uint8Array) {
    kind = 'bytes';
    body = input.bytes;
  } else if ('image' in input && input.image instanceof Uint8Array) {
    kind = 'image';
    body = input.image;
    if (input.width !== undefined) headers.set(H.width, String(input.width));
    if (input.height !== undefined) headers.set(H.height, String(input.height));
  } else {
    throw new InvalidArgumentError(
      'input must be { data }, { bytes: Uint8Array } or { image: Uint8Array }.',
    );
  }
  headers.set(H.input, kind);
  if (options.returns !== undefined) headers.set(H.returns, options.returns);
  if (options.timeoutMs !== undefined) headers.set(H.timeoutMs, String(options.timeoutMs));
  if (options.queueTimeoutMs !== undefined) {
    headers.set(H.queueTimeoutMs, String(options.queueTimeoutMs));
  }
  return offload({ headers, body }, payloads);
}

/** What a host reads from a call message. */
export interface DecodedCall {
  fn: string;
  input: CallInput;
  returns: ResultKind | undefined;
  timeoutMs: number | undefined;
  queueTimeoutMs: number | undefined;
}

/** The call in a message (its body fetched from the store if it was moved there). */
export async function decodeCall(
  headers: MsgHdrs | undefined,
  body: Uint8Array,
  payloads: PayloadStore,
): Promise<DecodedCall> {
  const get = (key: string) => headers?.get(key) || undefined;
  const fn = get(H.fn);
  if (fn === undefined) throw new InvalidArgumentError('A lattice call names no function.');
  const data = await fetchBody(get(H.ref), body, payloads, false);
  const kind = get(H.input) as InputKind | undefined;
  let input: CallInput;
  if (kind === 'json') input = { data: data.byteLength ? JSON.parse(text(data)) : null };
  else if (kind === 'msgpack') input = { data: unpack(data), codec: 'msgpack' };
  else if (kind === 'bytes') input = { bytes: data };
  else if (kind === 'image') {
    const width = numberOf(get(H.width));
    const height = numberOf(get(H.height));
    input = width !== undefined ? { image: data, width, height } : { image: data };
  } else throw new InvalidArgumentError(`Unknown lattice input kind ${String(kind)}.`);
  return {
    fn,
    input,
    returns: get(H.returns) as ResultKind | undefined,
    timeoutMs: numberOf(get(H.timeoutMs)),
    queueTimeoutMs: numberOf(get(H.queueTimeoutMs)),
  };
}

/** A host's answer that the call ran, with its result. */
export async function encodeResult(
  result: unknown,
  returns: ResultKind,
  facts: { host: string; version: number; hash: string | undefined },
  payloads: PayloadStore,
): Promise<WireMessage> {
  const headers = answerHeaders('result', facts.host);
  headers.set(H.returns, returns);
  headers.set(H.version, String(facts.version));
  if (facts.hash) headers.set(H.hash, facts.hash);
  let body: Uint8Array;
  if (returns === 'json') body = encodeJson(result);
  else if (returns === 'msgpack') body = pack(result);
  else if (returns === 'rgb') {
    const image = result as RgbImage;
    headers.set(H.width, String(image.width));
    headers.set(H.height, String(image.height));
    body = image.pixels;
  } else body = result as Uint8Array;
  return offload({ headers, body }, payloads);
}

/** A host's answer that the call failed, with the error as the library would have thrown it. */
export function encodeError(error: unknown, host: string): WireMessage {
  const headers = answerHeaders('error', host);
  const serialized = serializeError(error);
  delete serialized.stack;
  return { headers, body: new TextEncoder().encode(JSON.stringify(serialized)) };
}

/** A host's acknowledgement: it has the call and will run it. */
export function encodeAck(host: string): WireMessage {
  return { headers: answerHeaders('ack', host), body: new Uint8Array(0) };
}

/** A result as the caller gets it, with which host and version served it. */
export interface DecodedResult {
  value: unknown;
  host: string;
  version: number;
  hash: string | undefined;
}

/** The result in an answer; a `resultBuffer` receives bytes and RGB results that fit. */
export async function decodeResult(
  headers: MsgHdrs,
  body: Uint8Array,
  payloads: PayloadStore,
  resultBuffer?: Uint8Array,
): Promise<DecodedResult> {
  const get = (key: string) => headers.get(key) || undefined;
  const data = await fetchBody(get(H.ref), body, payloads, true);
  const returns = get(H.returns) as ResultKind;
  let value: unknown;
  if (returns === 'json') value = JSON.parse(text(data));
  else if (returns === 'msgpack') value = unpack(data);
  else {
    const bytes = copyInto(data, resultBuffer);
    value =
      returns === 'rgb'
        ? { pixels: bytes, width: numberOf(get(H.width)), height: numberOf(get(H.height)) }
        : bytes;
  }
  return {
    value,
    host: get(H.host) ?? '',
    version: numberOf(get(H.version)) ?? 0,
    hash: get(H.hash),
  };
}

/** The error in an error answer, rebuilt as its class (`instanceof` and `code` hold). */
export function decodeError(body: Uint8Array): WasmtubeError {
  return deserializeError(JSON.parse(text(body)) as SerializedError);
}

function answerHeaders(kind: AnswerKind, host: string): MsgHdrs {
  const headers = natsHeaders();
  headers.set(H.kind, kind);
  headers.set(H.host, host);
  return headers;
}

async function offload(message: WireMessage, payloads: PayloadStore): Promise<WireMessage> {
  if (!payloads.tooLarge(message.body)) return message;
  message.headers.set(H.ref, await payloads.put(message.body));
  return { headers: message.headers, body: new Uint8Array(0) };
}

async function fetchBody(
  ref: string | undefined,
  body: Uint8Array,
  payloads: PayloadStore,
  discard: boolean,
): Promise<Uint8Array> {
  if (ref === undefined) return body;
  const stored = await payloads.get(ref);
  if (discard) payloads.discard(ref);
  if (stored === undefined) {
    throw new ResultDecodeError(
      `A large payload (${ref}) expired from the lattice's payload store before it was read.`,
      { details: { ref } },
    );
  }
  return stored;
}

function copyInto(data: Uint8Array, target: Uint8Array | undefined): Buffer {
  if (target && target.byteLength >= data.byteLength) {
    target.set(data);
    return Buffer.from(target.buffer, target.byteOffset, data.byteLength);
  }
  // A copy: the message buffer belongs to the client.
  return Buffer.from(data);
}

function encodeJson(value: unknown): Uint8Array {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new InputEncodeError(`The value cannot be encoded as JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return new TextEncoder().encode(json ?? 'null');
}

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

function numberOf(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}
