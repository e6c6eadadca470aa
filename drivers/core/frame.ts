/**
 * The frame: everything a driver emits and a pipeline produces. A small JSON
 * header plus one typed-array payload; the same shape goes to pipelines, to
 * SQLite and to ZeroMQ subscribers without conversion.
 *
 * Owner of this contract: the engine & store (DESIGN.md, "frame header").
 */
export type Dtype = 'f64' | 'f32' | 'i32' | 'u32' | 'i16' | 'u16' | 'u8' | 'i8';

export type Payload =
  | Float64Array
  | Float32Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Uint8Array
  | Int8Array;

export interface FrameHeader {
  /** `<instrument>.<channel>` (e.g. `hbt0.histogram`) or `<pipeline>.<result>` (e.g. `g2.image`). */
  stream: string;
  /** Counts from 0 per stream within a session. */
  seq: number;
  /** Integer nanoseconds since the session started. */
  t: number;
  dtype: Dtype;
  /** Payload shape, C order; the product equals the payload length. */
  shape: number[];
  /** Kind-specific fields (position, integration time, …): JSON-serialisable only. */
  [field: string]: unknown;
}

export interface Frame<P extends Payload = Payload> {
  header: FrameHeader;
  payload: P;
}

const DTYPE_OF = new Map<Function, Dtype>([
  [Float64Array, 'f64'],
  [Float32Array, 'f32'],
  [Int32Array, 'i32'],
  [Uint32Array, 'u32'],
  [Int16Array, 'i16'],
  [Uint16Array, 'u16'],
  [Uint8Array, 'u8'],
  [Int8Array, 'i8'],
]);

export const PAYLOAD_CTOR: Record<Dtype, new (buf: ArrayBuffer, off: number, len: number) => Payload> = {
  f64: Float64Array,
  f32: Float32Array,
  i32: Int32Array,
  u32: Uint32Array,
  i16: Int16Array,
  u16: Uint16Array,
  u8: Uint8Array,
  i8: Int8Array,
} as never;

export function dtypeOf(payload: Payload): Dtype {
  const d = DTYPE_OF.get(payload.constructor);
  if (!d) throw new TypeError(`payload: unsupported typed array ${payload.constructor.name}`);
  return d;
}

/**
 * Copies `src`'s own enumerable properties into `dst`, in order, as `{...dst, ...src}` would (an existing key
 * keeps its position and takes the new value). On the per-frame path it replaces object spread followed by
 * more properties (`{...fields, stream, seq}`), which V8 (Node 20) runs on a slow path costing microseconds
 * per frame (issue 18, point 2). A `__proto__` key (JSON.parse makes it an own property) stays a property.
 */
export function assignFields<T extends object>(dst: T, src: Readonly<Record<string, unknown>>): T {
  const d = dst as Record<string, unknown>;
  for (const k in src) if (Object.hasOwn(src, k)) assignField(d, k, src[k]);
  return dst;
}

/** `dst[k] = v` as a data property, even for `__proto__`. */
export function assignField(dst: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(dst, k, { value: v, enumerable: true, writable: true, configurable: true });
  else dst[k] = v;
}

/**
 * Builds a frame whose header describes its payload. `fields` are the
 * kind-specific header fields; `seq` and `t` are filled by the emitter.
 */
export function makeFrame<P extends Payload>(
  stream: string,
  seq: number,
  t: number,
  payload: P,
  shape: number[] = [payload.length],
  fields: Record<string, unknown> = {},
): Frame<P> {
  let n = 1;
  for (const d of shape) n *= d;
  if (n !== payload.length) throw new RangeError(`shape: [${shape.join(',')}] holds ${n} values but the payload has ${payload.length}`);
  // The same header, key order included, as `{...fields, stream, seq, t, dtype, shape}`.
  const header = assignFields({} as FrameHeader, fields);
  header.stream = stream;
  header.seq = seq;
  header.t = Math.round(t);
  header.dtype = dtypeOf(payload);
  header.shape = shape;
  return { header, payload };
}

/** Decodes a payload from raw bytes (copying into an aligned buffer when needed). */
export function decodePayload(dtype: Dtype, bytes: Uint8Array): Payload {
  const ctor = PAYLOAD_CTOR[dtype];
  if (!ctor) throw new TypeError(`dtype: unknown '${String(dtype)}'`);
  const size = (ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  if (bytes.byteLength % size !== 0) throw new RangeError(`payload: ${bytes.byteLength} bytes is not a whole number of ${dtype} values`);
  if (bytes.byteOffset % size === 0) return new ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / size);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new ctor(copy.buffer, 0, bytes.byteLength / size);
}

/** The payload's bytes as a view (no copy). */
export function payloadBytes(payload: Payload): Uint8Array {
  return new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
}
