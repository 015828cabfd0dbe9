/**
 * Structured input: `data` is encoded with `JSON.stringify` (default) or as MessagePack
 * (`codec: 'msgpack'`, by msgpackr) and written into the guest's memory.
 */
export interface DataInput {
  data: unknown;
  /** Default: `'json'`. The result is decoded with the same codec unless `returns` says otherwise. */
  codec?: 'json' | 'msgpack';
}

/** Raw bytes in; by default raw bytes out. */
export interface BytesInput {
  bytes: Uint8Array;
}

/**
 * An image input. Either raw RGB (`width * height * 3` bytes, with `width` and `height`), or an
 * encoded PNG/JPEG/WebP/GIF/TIFF/AVIF without them (recognised by content and decoded with sharp).
 */
export interface ImageInput {
  image: Uint8Array;
  width?: number;
  height?: number;
}

/** What a call passes to the guest. */
export type CallInput = DataInput | BytesInput | ImageInput;

/**
 * How to read the guest's result:
 * - `json` (default for `data` and `image` calls): UTF-8 JSON, parsed.
 * - `msgpack` (default for `{ data, codec: 'msgpack' }`): MessagePack, decoded.
 * - `bytes` (default for `bytes` calls): the raw bytes, as a Buffer.
 * - `rgb`: `width * height * 3` raw RGB bytes, the size of the input image, as an {@link RgbImage}.
 * - `png`, `jpeg`, `webp`: the same RGB result, encoded by sharp.
 */
export type ResultKind = 'json' | 'msgpack' | 'bytes' | 'rgb' | 'png' | 'jpeg' | 'webp';

/** Per-call options. */
export interface CallOptions<R extends ResultKind = ResultKind> {
  /** How to read the result; see {@link ResultKind}. */
  returns?: R;
  /** Cancels the call while it waits its turn. */
  signal?: AbortSignal;
  /**
   * Where to copy a `'bytes'` or `'rgb'` result out of guest memory: when the result fits, it is
   * a view of this buffer's first bytes and no buffer is allocated (a fresh 6 MB buffer for a
   * 1080p image costs about 1 ms of page faults; a warm one about 0.15 ms). The next call given
   * the same buffer overwrites the result. Ignored for other result kinds. Through a `Worker`, the
   * result is copied there on the calling thread (without it, the thread's buffer is moved to the
   * caller, and a fresh one replaces it). Default: a new buffer.
   */
  resultBuffer?: Uint8Array;
}

/** The value a call resolves to for each {@link ResultKind}. */
export interface ResultTypes<T> {
  json: T;
  msgpack: T;
  bytes: Buffer;
  rgb: RgbImage;
  png: Buffer;
  jpeg: Buffer;
  webp: Buffer;
}

/** Raw, tightly packed 8-bit RGB pixels: `width * height * 3` bytes, row by row. */
export interface RgbImage {
  pixels: Uint8Array;
  width: number;
  height: number;
}

/**
 * The overloads of `callFunction`, written once for every caller: the in-process `Wasmtube` uses
 * `CallFunction` and a `Worker` `CallFunction<WorkerCallOptions>`, whose per-call options add to
 * {@link CallOptions}. The result type follows the input and `options.returns`: `bytes` input
 * resolves to a Buffer, `returns: 'rgb'` to an {@link RgbImage}, JSON to `T` (default `unknown`).
 *
 * @example
 * ```ts
 * await caller.callFunction('echo', { data: { args: 'Hello' } });          // → { args: 'Hello' }
 * await caller.callFunction('image_size', { image: pngBytes });             // → { width, height }
 * const png = await caller.callFunction('grayscale', { image: pngBytes }, { returns: 'png' });
 * ```
 */
export interface CallFunction<Options extends CallOptions = CallOptions> {
  (name: string, input: BytesInput, options?: Options & CallOptions<'bytes'>): Promise<Buffer>;
  <T = unknown>(
    name: string,
    input: CallInput,
    options?: Options & CallOptions<'json'>,
  ): Promise<T>;
  (name: string, input: CallInput, options: Options & CallOptions<'bytes'>): Promise<Buffer>;
  (name: string, input: ImageInput, options: Options & CallOptions<'rgb'>): Promise<RgbImage>;
  (
    name: string,
    input: ImageInput,
    options: Options & CallOptions<'png' | 'jpeg' | 'webp'>,
  ): Promise<Buffer>;
  <R extends ResultKind>(
    name: string,
    input: CallInput,
    options?: Options & CallOptions<R>,
  ): Promise<ResultTypes<unknown>[R]>;
}
